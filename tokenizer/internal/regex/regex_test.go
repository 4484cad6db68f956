package regex

import (
	"math/rand"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

const gpt2 = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
const llama3 = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
const o200k = `[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`

func pieces(re *Regexp, s string) []string {
	var out []string
	re.FindAll(s, func(a, b int) bool {
		out = append(out, s[a:b])
		return true
	})
	return out
}

func TestPretokenizerPatterns(t *testing.T) {
	cases := []struct {
		pat  string
		in   string
		want []string
	}{
		{gpt2, "Hello my friend, how is your day going?", []string{"Hello", " my", " friend", ",", " how", " is", " your", " day", " going", "?"}},
		{gpt2, "Hello there       dear", []string{"Hello", " there", "      ", " dear"}},
		{gpt2, "I'm sure you don't", []string{"I", "'m", " sure", " you", " don", "'t"}},
		{gpt2, "I'M", []string{"I", "'", "M"}},
		{gpt2, "trailing   ", []string{"trailing", "   "}},
		{gpt2, "a\n\nb", []string{"a", "\n", "\n", "b"}},
		{gpt2, "  x", []string{" ", " x"}},
		{gpt2, "12345 3.14", []string{"12345", " 3", ".", "14"}},
		{gpt2, "中文 and 日本語", []string{"中文", " and", " 日本語"}},
		{gpt2, "", nil},
		{llama3, "I'M sure DON'T", []string{"I", "'M", " sure", " DON", "'T"}},
		{llama3, "12345", []string{"123", "45"}},
		{llama3, "a\n\n  b", []string{"a", "\n\n", " ", " b"}},
		{llama3, "x  \n y", []string{"x", "  \n", " y"}},
		{llama3, "hello!!\n\nworld", []string{"hello", "!!\n\n", "world"}},
		{llama3, "$hello", []string{"$hello"}},
		{o200k, "HelloWorld don't", []string{"Hello", "World", " don't"}},
		{o200k, "path/to/file", []string{"path", "/to", "/file"}},
		{`\w+|[^\w\s]+`, "Hey, friend!  héllo_1", []string{"Hey", ",", "friend", "!", "héllo_1"}},
		// Qwen2: one digit at a time.
		{`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
			"x 123", []string{"x", " ", "1", "2", "3"}},
		// DeepSeek-V3's word split.
		{"[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+",
			"Hello, world!\n.net", []string{"Hello", ",", " world", "!\n", ".net"}},
		{`[一-龥぀-ゟ゠-ヿ]+`, "ab中文カナx", []string{"中文カナ"}},
		// BLOOM: a class nested in a negated class.
		{` ?[^(\s|[.,!?…。，、।۔،])]+`, "Hello, world. 中文。x", []string{"Hello", " world", " 中文", "x"}},
	}
	for _, c := range cases {
		re := MustCompile(c.pat)
		got := pieces(re, c.in)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%.30q on %q:\n got %q\nwant %q", c.pat, c.in, got, c.want)
		}
	}
}

func TestFeatures(t *testing.T) {
	cases := []struct {
		pat, in string
		want    []string
	}{
		{`(?<=a)b`, "ab cb ab", []string{"b", "b"}},
		{`(?<!a)b`, "ab cb b", []string{"b", "b"}},
		{`(?<=ab|c)d`, "abd cd xd", []string{"d", "d"}},
		{`a(?=b)`, "ab ac", []string{"a"}},
		{`(?>a+)b`, "aaab", []string{"aaab"}},
		{`(?>a*)a`, "aaa", nil},
		{`a*+a`, "aaa", nil},
		{`a++b`, "aab", []string{"aab"}},
		{`a+?`, "aaa", []string{"a", "a", "a"}},
		{`a{2,3}?`, "aaaaa", []string{"aa", "aa"}},
		{`a{,2}`, "aaa", []string{"aa", "a"}},
		{`x{2}`, "xxxxx", []string{"xx", "xx"}},
		{`a{`, "a{", []string{"a{"}},
		{`(?i)abc`, "ABC aBc", []string{"ABC", "aBc"}},
		{`a(?i)b|c`, "aB C", []string{"aB", "C"}},
		{`(?i:a)b`, "Ab AB", []string{"Ab"}},
		{`[a-c&&[^b]]+`, "abcab", []string{"a", "ca"}},
		{`[[:alpha:]]+`, "ab1cd", []string{"ab", "cd"}},
		{`[\p{Lu}\d]+`, "aBC1d", []string{"BC1"}},
		{`\p{^L}+`, "ab12cd", []string{"12"}},
		{`\P{L}+`, "ab12cd", []string{"12"}},
		{`\x41\u0042\x{43}`, "ABC", []string{"ABC"}},
		{`^a`, "a\na", []string{"a", "a"}},
		{`a$`, "a\na", []string{"a", "a"}},
		{`\Aa`, "a\na", []string{"a"}},
		{`a\z`, "a\na", []string{"a"}},
		{`\bfoo\b`, "foo foobar foo", []string{"foo", "foo"}},
		{`.`, "a\nb", []string{"a", "b"}},
		{`(?m).+`, "a\nb", []string{"a\nb"}},
		{`\R`, "a\r\nb\nc", []string{"\r\n", "\n"}},
		{`(?x) a  b # comment`, "ab", []string{"ab"}},
		{`(?<name>a)b`, "ab", []string{"ab"}},
		{`(a|)*b`, "aab", []string{"aab"}},
		{`(?:)`, "ab", []string{"", "", ""}},
		{`[]a]+`, "a]b", []string{"a]"}},
		{`[a-]+`, "a-b", []string{"a-"}},
		{`\s+(?!\S)|\s+`, "a   b", []string{"  ", " "}},
	}
	for _, c := range cases {
		re, err := Compile(c.pat)
		if err != nil {
			t.Errorf("%q: %v", c.pat, err)
			continue
		}
		got := pieces(re, c.in)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q on %q: got %q want %q", c.pat, c.in, got, c.want)
		}
	}
}

func TestErrors(t *testing.T) {
	for _, pat := range []string{`(a`, `a)`, `[a`, `*a`, `\1`, `\k<x>`, `(?<=a+)b`, `\p{Nope}`, `a{1001}`, `(?z)`, `[b-a]`, `\G`, `\q`} {
		if _, err := Compile(pat); err == nil {
			t.Errorf("%q: expected an error", pat)
		} else if !strings.Contains(err.Error(), "regex") {
			t.Errorf("%q: error %q does not name the regex", pat, err)
		}
	}
}

// TestAgainstGoRegexp compares with Go's leftmost-first engine on patterns
// both understand, over random ASCII text.
func TestAgainstGoRegexp(t *testing.T) {
	pats := []string{
		`a+b*|b+`, `(a|ab)(c|bcd)`, `[ab]+?c`, `a*`, `(?:ab|a)*b`, `x|y*`,
		`[^ab]+`, `a{2,4}b?`, `(a+|b+)+c`, `(?i)[A-C]+`, `.+?b`, `(?:a?)+b`,
		` ?\p{L}+| ?\p{N}+| ?[^ \p{L}\p{N}]+| +`,
	}
	rng := rand.New(rand.NewSource(1))
	alphabet := "aabbcxy 1.\n"
	for _, pat := range pats {
		mine := MustCompile(pat)
		ref := regexp.MustCompile(pat)
		for i := 0; i < 300; i++ {
			n := rng.Intn(20)
			var sb strings.Builder
			for j := 0; j < n; j++ {
				sb.WriteByte(alphabet[rng.Intn(len(alphabet))])
			}
			s := sb.String()
			want := [][2]int{}
			for _, m := range ref.FindAllStringIndex(s, -1) {
				want = append(want, [2]int{m[0], m[1]})
			}
			got := mine.FindAllIndex(s)
			if got == nil {
				got = [][2]int{}
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%q on %q: got %v want %v", pat, s, got, want)
			}
		}
	}
}

// TestNoCatastrophicBacktracking runs classic exponential patterns on long
// inputs; the bit-state memo keeps each of them linear.
func TestNoCatastrophicBacktracking(t *testing.T) {
	long := strings.Repeat("a", 20000)
	spaces := strings.Repeat(" \t", 20000)
	cases := []struct{ pat, in string }{
		{`(a*)*b`, long},
		{`(a|aa)*c`, long},
		{`(a+)+$`, long + "!"},
		{`(?:a|a)*b`, long},
		{`(\s+)+x`, spaces},
		{`\s+(?!\S)|\s+`, spaces + "x"},
		{gpt2, spaces + "x" + long},
		{llama3, strings.Repeat("'", 20000) + strings.Repeat("1", 20000)},
		{`(?=(a+)+b)a`, long[:3000]},
	}
	for _, c := range cases {
		re := MustCompile(c.pat)
		start := time.Now()
		re.FindAllIndex(c.in)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%q took %v", c.pat, d)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	re := MustCompile(gpt2)
	done := make(chan bool)
	for g := 0; g < 4; g++ {
		go func() {
			for i := 0; i < 200; i++ {
				if got := pieces(re, "Hello world  it's me"); len(got) != 6 {
					t.Errorf("got %q", got)
				}
			}
			done <- true
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
}

func BenchmarkGPT2(b *testing.B) {
	text := strings.Repeat("First Citizen:\nBefore we proceed any further, hear me speak.\n\n", 2000)
	re := MustCompile(gpt2)
	b.SetBytes(int64(len(text)))
	for i := 0; i < b.N; i++ {
		re.FindAll(text, func(int, int) bool { return true })
	}
}
