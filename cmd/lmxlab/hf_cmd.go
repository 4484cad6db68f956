package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/lmxlab/lmxlab/hf"
	"github.com/spf13/cobra"
)

func init() {
	hfCmd := &cobra.Command{Use: "hf", Short: "Hugging Face checkpoints: verify against reference outputs"}
	var ref string
	var tol float64
	verify := &cobra.Command{
		Use:   "verify MODEL_DIR --reference REF.safetensors",
		Short: "Load a Hugging Face checkpoint folder and compare its logits and greedy decode with a reference",
		Long: `verify loads MODEL_DIR (config.json + *.safetensors), runs the reference's input_ids and prints JSON
with max_abs_err against its logits, and greedy_match against greedy_prompt/greedy_output when present.
It exits with status 1 when the logits differ by more than --tolerance or the greedy decode differs.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if ref == "" {
				return fmt.Errorf("--reference is required")
			}
			rep, err := hf.Verify(args[0], ref, tol)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			if err := enc.Encode(rep); err != nil {
				return err
			}
			if !rep.OK() {
				cmd.SilenceErrors = true
				os.Exit(1)
			}
			return nil
		},
	}
	verify.Flags().StringVar(&ref, "reference", "", "reference safetensors with input_ids, logits[, greedy_prompt, greedy_output]")
	verify.Flags().Float64Var(&tol, "tolerance", 1e-4, "maximum absolute logit error")
	hfCmd.AddCommand(verify)
	addCommand(hfCmd)
}
