module github.com/lmxlab/lmxlab

go 1.26
