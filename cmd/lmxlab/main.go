// Command lmxlab is the transformer language-model lab's command line: list and inspect
// architectures, train and fine-tune models, generate text, evaluate, benchmark against peers,
// and check Hugging Face checkpoints.
//
// Each subcommand lives in its own file and registers itself with addCommand.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

var rootCmd = &cobra.Command{
	Use:   "lmxlab",
	Short: "A transformer language-model lab in Go",
	Long: `lmxlab builds, trains, fine-tunes, loads and studies transformer language models.
It runs on a laptop CPU with nothing to install (the native Go backend) and on NVIDIA GPUs through XLA.

Start with:
  lmxlab train              train a tiny model on the embedded arithmetic corpus and print samples
  lmxlab list               the architectures
  lmxlab train --help       every training option`,
	SilenceUsage:  true,
	SilenceErrors: true,
}

// addCommand registers a subcommand; each file calls it from init.
func addCommand(c *cobra.Command) { rootCmd.AddCommand(c) }

func main() {
	if err := rootCmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "lmxlab:", err)
		os.Exit(1)
	}
}
