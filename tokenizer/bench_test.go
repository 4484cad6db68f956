package tokenizer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkEncodeShakespeare encodes the tiny shakespeare corpus (about
// 1.1 MB of English) in one call with each fixture tokenizer; the MB/s
// column is the encoding speed.
func BenchmarkEncodeShakespeare(b *testing.B) {
	data, err := os.ReadFile(sharedFile(b, filepath.Join("data", "tinyshakespeare.txt")))
	if err != nil {
		b.Fatal(err)
	}
	text := string(data)
	for _, path := range fixtureFiles(b) {
		name := strings.TrimSuffix(filepath.Base(path), ".cases.json")
		_, tok := loadFixture(b, path)
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for i := 0; i < b.N; i++ {
				tok.Encode(text)
			}
		})
	}
}
