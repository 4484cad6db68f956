package data

import (
	_ "embed"
	"strconv"
	"strings"
	"sync"
)

// Arithmetic returns n lines of procedurally generated arithmetic, such as "37+45=82\n",
// "91-16=75\n" and "7*12=84\n", drawn from a PCG stream seeded by seed (the same seed always
// gives the same text). Operands are small: addition and subtraction use 0..99 (subtraction puts
// the larger operand first, so results are never negative) and multiplication 0..12 × 0..99.
// About 40% of lines add, 40% subtract and 20% multiply. Only the ASCII characters 0-9 + - * =
// and newline occur, so a character tokenizer sees one byte per token.
func Arithmetic(seed int64, n int) string {
	r := newPCG(seed)
	var sb strings.Builder
	sb.Grow(n * 10)
	var line []byte
	for range n {
		var a, b, c uint64
		var op byte
		switch boundedDraw(r, 5) {
		case 0, 1:
			a, b = boundedDraw(r, 100), boundedDraw(r, 100)
			op, c = '+', a+b
		case 2, 3:
			a, b = boundedDraw(r, 100), boundedDraw(r, 100)
			if a < b {
				a, b = b, a
			}
			op, c = '-', a-b
		default:
			a, b = boundedDraw(r, 13), boundedDraw(r, 100)
			op, c = '*', a*b
		}
		line = strconv.AppendUint(line[:0], a, 10)
		line = append(line, op)
		line = strconv.AppendUint(line, b, 10)
		line = append(line, '=')
		line = strconv.AppendUint(line, c, 10)
		line = append(line, '\n')
		sb.Write(line)
	}
	return sb.String()
}

// DefaultCorpusSeed and DefaultCorpusLines define DefaultCorpus.
const (
	DefaultCorpusSeed  = 1337
	DefaultCorpusLines = 32768
)

// defaultCorpus memoizes DefaultCorpus: the text is immutable, so generating it once is enough.
var defaultCorpus = sync.OnceValue(func() string { return Arithmetic(DefaultCorpusSeed, DefaultCorpusLines) })

// DefaultCorpus returns the synthetic corpus a run uses when it is given no data:
// Arithmetic(DefaultCorpusSeed, DefaultCorpusLines), about 290 KB of ASCII. It needs no files
// or network and is identical on every machine.
func DefaultCorpus() string { return defaultCorpus() }

//go:embed sample.txt
var sample string

// Sample returns a tiny embedded English text (Shakespeare's Sonnet 18, public domain), for
// examples and smoke tests that want prose rather than arithmetic.
func Sample() string { return sample }
