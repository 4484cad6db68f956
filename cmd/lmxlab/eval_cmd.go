package main

import (
	"encoding/json"
	"fmt"

	"github.com/lmxlab/lmxlab/data"
	"github.com/lmxlab/lmxlab/eval"
	"github.com/lmxlab/lmxlab/models"
	"github.com/lmxlab/lmxlab/mx"
	"github.com/spf13/cobra"
)

func init() {
	var dataName, device string
	var seqLen, batch, maxBatches int
	var valFraction float64
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "eval CHECKPOINT",
		Short: "Evaluate a checkpoint: loss, perplexity and bits per byte on text",
		Long: `eval computes the mean token cross-entropy of a checkpoint on --data (by default only its held-out tail,
--val-fraction; 1 uses the whole text) in non-overlapping windows of --seq-len, and reports the loss,
the perplexity and the bits per byte (using the measured bytes per token of that text).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := useDevice(device); err != nil {
				return err
			}
			m, tok, err := loadModel(args[0])
			if err != nil {
				return err
			}
			text, err := data.Text(dataName)
			if err != nil {
				return err
			}
			if valFraction < 1 {
				text = textOfTail(text, valFraction)
			}
			tokens := data.Encode(tok, text)
			src, err := data.Sequential(tokens, batch, seqLen)
			if err != nil {
				return err
			}
			loss, n := eval.EvaluateLoss(func(x, y *mx.Array) *mx.Array {
				return models.MeanCrossEntropy(m.Forward(x, models.ForwardOptions{}), y)
			}, src, maxBatches)
			bpt := eval.BytesPerToken(text, len(tokens))
			res := map[string]any{"loss": loss, "perplexity": eval.Perplexity(loss), "bpb": eval.BitsPerByte(loss, bpt),
				"batches": n, "tokens": n * batch * seqLen, "bytes_per_token": bpt}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(res)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "loss %.4f  perplexity %.3f  bpb %.4f  (%d batches)\n", loss, res["perplexity"], res["bpb"], n)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataName, "data", "arithmetic", "text: arithmetic, shakespeare, sample or a path")
	f.Float64Var(&valFraction, "val-fraction", 0.1, "evaluate this tail fraction of the text (1: all of it)")
	f.IntVar(&seqLen, "seq-len", 64, "window length")
	f.IntVar(&batch, "batch-size", 8, "windows per batch")
	f.IntVar(&maxBatches, "max-batches", 50, "batches at most (0: all)")
	f.StringVar(&device, "device", "", "cpu or gpu")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	addCommand(cmd)
}
