package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/lmxlab/lmxlab/generate"
	"github.com/spf13/cobra"
)

func init() {
	var prompt, device string
	var opts generate.Options
	var n int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "generate CHECKPOINT",
		Short: "Generate text from a checkpoint, streaming it as it is sampled",
		Long: `generate loads a checkpoint written by lmxlab train (config.json, model.safetensors and the tokenizer)
and continues --prompt. Tokens of the first sample are printed as soon as they are sampled. Sampling:
--temperature (0 = greedy), --top-k, --top-p, --min-p, --repetition-penalty, --seed; --stop lists token
ids that end a sample.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := useDevice(device); err != nil {
				return err
			}
			m, tok, err := loadModel(args[0])
			if err != nil {
				return err
			}
			if opts.ContextWindow == 0 {
				opts.ContextWindow = m.Config.Block.MaxSeqLen
			} else if opts.ContextWindow < 0 {
				opts.ContextWindow = 0
			}
			ids := tok.Encode(prompt)
			if len(ids) == 0 {
				return fmt.Errorf("the prompt %q encodes to no tokens", prompt)
			}
			out := cmd.OutOrStdout()
			if !asJSON {
				fmt.Fprint(out, prompt)
				prev := tok.Decode(ids)
				seq := append([]int(nil), ids...)
				opts.OnToken = func(t int) bool {
					// Decode the whole tail so multi-byte characters print once complete.
					seq = append(seq, t)
					text := tok.Decode(seq)
					if len(text) > len(prev) {
						io.WriteString(out, text[len(prev):])
						prev = text
					}
					return true
				}
			}
			prompts := make([][]int, max(n, 1))
			for i := range prompts {
				prompts[i] = ids
			}
			res, err := generate.Generate(m, prompts, opts)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(out)
				for i, t := range res.Tokens {
					enc.Encode(map[string]any{"index": i, "prompt": prompt, "tokens": t, "text": tok.Decode(append(append([]int(nil), ids...), t...)), "stopped": res.Stopped[i]})
				}
				return nil
			}
			fmt.Fprintln(out)
			for i := 1; i < len(res.Tokens); i++ {
				fmt.Fprintf(out, "--- sample %d ---\n%s\n", i+1, tok.Decode(append(append([]int(nil), ids...), res.Tokens[i]...)))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&prompt, "prompt", "\n", "text to continue")
	f.IntVar(&opts.MaxTokens, "max-tokens", 200, "tokens to generate")
	f.Float64Var(&opts.Temperature, "temperature", 0.8, "sampling temperature (0: greedy)")
	f.IntVar(&opts.TopK, "top-k", 0, "keep the k most likely tokens (0: off)")
	f.Float64Var(&opts.TopP, "top-p", 0, "nucleus sampling mass (0: off)")
	f.Float64Var(&opts.MinP, "min-p", 0, "drop tokens below min-p × the top probability (0: off)")
	f.Float64Var(&opts.RepetitionPenalty, "repetition-penalty", 1, "CTRL penalty on generated tokens (1: off)")
	f.IntSliceVar(&opts.StopTokens, "stop", nil, "token ids that end a sample")
	f.Uint64Var(&opts.Seed, "seed", 0, "sampling seed")
	f.IntVar(&n, "n", 1, "number of samples")
	f.IntVar(&opts.ContextWindow, "context", 0, "context window: past it, continue from the last half (0: the model's max_seq_len, -1: unbounded)")
	f.StringVar(&device, "device", "", "cpu or gpu")
	f.BoolVar(&asJSON, "json", false, "print one JSON line per sample instead of streaming")
	addCommand(cmd)
}
