package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/lmxlab/lmxlab/tokenizer"
	"github.com/spf13/cobra"
)

func init() { addCommand(newTokenizeCmd()) }

// tokenizeOutput is one output line of lmxlab tokenize.
type tokenizeOutput struct {
	IDs     []int    `json:"ids"`
	Tokens  []string `json:"tokens"`
	Decoded string   `json:"decoded"`
}

func newTokenizeCmd() *cobra.Command {
	var path string
	var noSpecial, skipSpecial bool
	cmd := &cobra.Command{
		Use:   "tokenize --tokenizer FILE",
		Short: "Tokenize JSON lines with a Hugging Face tokenizer.json",
		Long: `tokenize reads JSON lines {"text": "..."} on standard input and writes, for each, one JSON line
{"ids": [...], "tokens": [...], "decoded": "..."}: the token ids and strings of the text (with the
post-processor's special tokens unless --no-special) and the decoding of those ids (special tokens
kept unless --skip-special). --tokenizer is a tokenizer.json or a folder holding one; a
tokenizer_config.json beside it is read too.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if path == "" {
				return errors.New("--tokenizer is required")
			}
			tok, err := tokenizer.FromFile(path)
			if err != nil {
				return err
			}
			return runTokenize(tok, cmd.InOrStdin(), cmd.OutOrStdout(), !noSpecial, skipSpecial)
		},
	}
	cmd.Flags().StringVar(&path, "tokenizer", "", "tokenizer.json file or a folder holding one")
	cmd.Flags().BoolVar(&noSpecial, "no-special", false, "do not add the post-processor's special tokens")
	cmd.Flags().BoolVar(&skipSpecial, "skip-special", false, "leave special tokens out of decoded")
	return cmd
}

func runTokenize(tok *tokenizer.HF, in io.Reader, out io.Writer, addSpecial, skipSpecial bool) error {
	r := bufio.NewReader(in)
	w := bufio.NewWriter(out)
	defer w.Flush()
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for line := 1; ; line++ {
		data, err := r.ReadString('\n')
		if err != nil && err != io.EOF {
			return err
		}
		if s := strings.TrimSpace(data); s != "" {
			var req struct {
				Text *string `json:"text"`
			}
			if jerr := json.Unmarshal([]byte(s), &req); jerr != nil {
				return fmt.Errorf("stdin line %d: %v", line, jerr)
			}
			if req.Text == nil {
				return fmt.Errorf("stdin line %d: missing \"text\"", line)
			}
			ids, toks := tok.EncodeWithTokens(*req.Text, tokenizer.AddSpecialTokens(addSpecial))
			o := tokenizeOutput{IDs: ids, Tokens: toks,
				Decoded: tok.DecodeWith(ids, tokenizer.SkipSpecialTokens(skipSpecial))}
			if o.IDs == nil {
				o.IDs = []int{}
			}
			if o.Tokens == nil {
				o.Tokens = []string{}
			}
			if werr := enc.Encode(o); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
	}
}
