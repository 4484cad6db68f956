package tokenizer

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkEncodeShakespeare encodes the tiny shakespeare corpus (about
// 1.1 MB of English) in one call with each fixture tokenizer. MB/s is the
// wall-clock speed; cpu-MB/s counts the CPU time of the process instead
// (all threads, garbage collection included), which stays meaningful when
// other work shares the machine.
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
			c0 := cpuTime()
			for i := 0; i < b.N; i++ {
				tok.Encode(text)
			}
			if cpu := cpuTime() - c0; cpu > 0 {
				b.ReportMetric(float64(len(text))*float64(b.N)/cpu.Seconds()/1e6, "cpu-MB/s")
			}
		})
	}
}
