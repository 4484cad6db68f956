package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/lmxlab/lmxlab/models"
	"github.com/lmxlab/lmxlab/mx/random"
	"github.com/lmxlab/lmxlab/nn"
	"github.com/spf13/cobra"
)

func init() {
	addCommand(&cobra.Command{
		Use:   "list",
		Short: "List the architectures and their sizes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, name := range models.Architectures() {
				f, _ := models.Lookup(name)
				sizes := []string{"tiny"}
				for s := range f.Sizes {
					sizes = append(sizes, s)
				}
				sort.Strings(sizes[1:])
				fmt.Fprintf(cmd.OutOrStdout(), "%-8s %s\n         sizes: %s\n", name, f.Description, strings.Join(sizes, ", "))
			}
			return nil
		},
	})
	var tiny bool
	info := &cobra.Command{
		Use:   "info ARCH",
		Short: "Print an architecture's config as JSON (ARCH may name a size: gpt_10m, llama:tiny)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := archConfig(args[0], tiny)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(append(cfg.JSON(), '\n'))
			return err
		},
	}
	info.Flags().BoolVar(&tiny, "tiny", false, "use the tiny test-size config")
	addCommand(info)

	var countTiny, detail, asJSON bool
	count := &cobra.Command{
		Use:   "count ARCH",
		Short: "Count an architecture's parameters (--detail: per top-level module)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := archConfig(args[0], countTiny)
			if err != nil {
				return err
			}
			total, groups, err := countParameters(cfg)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(map[string]any{"arch": cfg.Name, "params": total, "modules": groups})
			}
			fmt.Fprintf(out, "%s: %s parameters\n", cfg.Name, commas(total))
			if detail {
				names := make([]string, 0, len(groups))
				for n := range groups {
					names = append(names, n)
				}
				sort.Strings(names)
				for _, n := range names {
					fmt.Fprintf(out, "  %-12s %s\n", n, commas(groups[n]))
				}
			}
			return nil
		},
	}
	count.Flags().BoolVar(&countTiny, "tiny", false, "use the tiny test-size config")
	count.Flags().BoolVar(&detail, "detail", false, "break the count down by top-level module")
	count.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	addCommand(count)
}

// archConfig resolves an architecture name (with an optional size) to its config.
func archConfig(name string, tiny bool) (models.ModelConfig, error) {
	if tiny {
		f, err := models.Lookup(name)
		if err != nil {
			return models.ModelConfig{}, err
		}
		return f.Tiny(), nil
	}
	return models.ConfigByName(name)
}

// countParameters counts a config's parameters by building it lazily: arrays are never
// evaluated, so even a 7B config costs only graph nodes.
func countParameters(cfg models.ModelConfig) (int, map[string]int, error) {
	m, err := models.Build(cfg, random.Key(0))
	if err != nil {
		return 0, nil, err
	}
	groups := map[string]int{}
	total := 0
	for _, p := range nn.Parameters(m) {
		top := strings.SplitN(p.Name, ".", 2)[0]
		groups[top] += p.Value.Size()
		total += p.Value.Size()
	}
	return total, groups, nil
}

func commas(n int) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
