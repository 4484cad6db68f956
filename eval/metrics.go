package eval

import "math"

// Perplexity returns exp(meanLossNats): the perplexity of a model whose mean per-token
// cross-entropy is meanLossNats. A model uniform over V tokens has loss ln V and perplexity V.
func Perplexity(meanLossNats float64) float64 { return math.Exp(meanLossNats) }

// BitsPerByte returns meanLossNats / ln 2 / bytesPerToken: the loss in bits for each byte of
// text, which compares models with different tokenizers. bytesPerToken must be positive (see
// BytesPerToken); otherwise the result is NaN.
func BitsPerByte(meanLossNats, bytesPerToken float64) float64 {
	if !(bytesPerToken > 0) {
		return math.NaN()
	}
	return meanLossNats / math.Ln2 / bytesPerToken
}

// BytesPerToken returns len(text) in UTF-8 bytes divided by nTokens, the number of tokens the
// tokenizer made of text. For a character tokenizer on ASCII this is 1; on other scripts or with
// BPE it is larger. It is NaN when nTokens is not positive.
func BytesPerToken(text string, nTokens int) float64 {
	if nTokens <= 0 {
		return math.NaN()
	}
	return float64(len(text)) / float64(nTokens)
}

// Encoder is the part of a tokenizer (tokenizer.Tokenizer) that TokenizerBytesPerToken needs.
type Encoder interface {
	Encode(text string) []int
}

// TokenizerBytesPerToken tokenizes text with tok and returns BytesPerToken of the result.
func TokenizerBytesPerToken(tok Encoder, text string) float64 {
	return BytesPerToken(text, len(tok.Encode(text)))
}
