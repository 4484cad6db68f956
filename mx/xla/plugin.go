package xla

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// PluginEnv names the environment variable that selects the PJRT plugin by absolute path.
const PluginEnv = "LMXLAB_PJRT_PLUGIN"

// FindPlugin returns the absolute path of the PJRT CUDA plugin to load. It looks at
// $LMXLAB_PJRT_PLUGIN, then for JAX's plugin (jax_plugins/xla_cuda*/xla_cuda_plugin.so) in the
// site-packages of python3 and the usual Python folders, then in go-xla's folders
// (~/.local/lib/go-xla, /usr/local/lib/go-xla and $PJRT_PLUGIN_LIBRARY_PATH). It never downloads
// anything; the error names every place searched.
func FindPlugin() (string, error) {
	if p := os.Getenv(PluginEnv); p != "" {
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", fmt.Errorf("xla: %s=%s: %v", PluginEnv, p, err)
		}
		if _, err := os.Stat(abs); err != nil {
			return "", fmt.Errorf("xla: %s=%s: %v", PluginEnv, p, err)
		}
		return abs, nil
	}
	var searched []string
	for _, dir := range pythonSitePackages() {
		pattern := filepath.Join(dir, "jax_plugins", "xla_cuda*", "xla_cuda_plugin.so")
		searched = append(searched, pattern)
		if m := newestFirst(glob(pattern)); len(m) > 0 {
			return m[0], nil
		}
	}
	for _, dir := range goXLADirs() {
		pattern := filepath.Join(dir, "pjrt_c_api_cuda*_plugin.so")
		searched = append(searched, pattern)
		if m := newestFirst(glob(pattern)); len(m) > 0 {
			return m[0], nil
		}
	}
	return "", fmt.Errorf("xla: no PJRT CUDA plugin found (set %s to the absolute path of one, such as the xla_cuda_plugin.so of pip's jax-cuda13-pjrt); searched:\n  %s",
		PluginEnv, strings.Join(searched, "\n  "))
}

func glob(pattern string) []string {
	m, _ := filepath.Glob(pattern)
	var out []string
	for _, p := range m {
		if abs, err := filepath.Abs(p); err == nil {
			out = append(out, abs)
		}
	}
	return out
}

// newestFirst orders plugin paths so that a higher CUDA major version (xla_cuda13 over
// xla_cuda12) comes first.
func newestFirst(paths []string) []string {
	sort.Slice(paths, func(i, j int) bool { return paths[i] > paths[j] })
	return paths
}

// pythonSitePackages lists the site-packages folders of python3 (asked, with a time limit) and
// the common install locations, without duplicates.
func pythonSitePackages() []string {
	var dirs []string
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	script := "import site,sys\nfor p in site.getsitepackages()+[site.getusersitepackages()]+sys.path: print(p)"
	if out, err := exec.CommandContext(ctx, "python3", "-c", script).Output(); err == nil {
		for _, l := range strings.Split(string(out), "\n") {
			if l = strings.TrimSpace(l); l != "" && filepath.IsAbs(l) {
				dirs = append(dirs, l)
			}
		}
	}
	home, _ := os.UserHomeDir()
	for _, pat := range []string{
		"/usr/local/lib/python3*/dist-packages", "/usr/local/lib/python3*/site-packages",
		"/usr/lib/python3/dist-packages", "/usr/lib/python3*/site-packages",
		"/opt/conda/lib/python3*/site-packages", filepath.Join(home, ".local/lib/python3*/site-packages"),
	} {
		dirs = append(dirs, glob(pat)...)
	}
	seen := map[string]bool{}
	var out []string
	for _, d := range dirs {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}

// goXLADirs are the folders go-xla installs plugins into.
func goXLADirs() []string {
	var dirs []string
	for _, d := range strings.Split(os.Getenv("PJRT_PLUGIN_LIBRARY_PATH"), ":") {
		if d != "" && filepath.IsAbs(d) {
			dirs = append(dirs, d)
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, ".local/lib/go-xla"), filepath.Join(home, ".local/lib/go-xla/nvidia"))
	}
	return append(dirs, "/usr/local/lib/go-xla", "/usr/local/lib/go-xla/nvidia")
}
