package xla

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// Verify checks the structure of a module written by Lower without an MLIR parser: balanced
// brackets, every value defined before it is used, each operand's type equal to the type its
// definition gave it, result counts, known op names and a return that matches the signature.
// It re-reads the text independently of the emitter, so it catches emitter bugs, not only
// lowering bugs. (The real verifier is XLA's, on the device.)
func Verify(text string) error {
	if err := balanced(text); err != nil {
		return err
	}
	types := map[string]string{}
	var results []string
	type frame struct {
		name     string
		nres     int
		op       string
		operands []string
	}
	var stack []frame
	lines := strings.Split(text, "\n")
	check := func(ln int, fr frame, rest string) error {
		i := strings.LastIndex(rest, " : (")
		if i < 0 {
			return fmt.Errorf("line %d: %s without a signature", ln, fr.op)
		}
		sig := rest[i+4:]
		j := strings.Index(sig, ") -> ")
		if j < 0 {
			return fmt.Errorf("line %d: malformed signature %q", ln, sig)
		}
		opTypes := splitTypes(sig[:j])
		res := strings.TrimSpace(sig[j+5:])
		if len(opTypes) != len(fr.operands) {
			return fmt.Errorf("line %d: %s has %d operands and %d operand types", ln, fr.op, len(fr.operands), len(opTypes))
		}
		for k, o := range fr.operands {
			t, ok := types[o]
			if !ok {
				return fmt.Errorf("line %d: %s uses %s before its definition", ln, fr.op, o)
			}
			if t != opTypes[k] {
				return fmt.Errorf("line %d: %s operand %s has type %s, signature says %s", ln, fr.op, o, t, opTypes[k])
			}
		}
		var resTypes []string
		switch {
		case res == "()":
		case strings.HasPrefix(res, "("):
			resTypes = splitTypes(strings.TrimSuffix(strings.TrimPrefix(res, "("), ")"))
		default:
			resTypes = []string{res}
		}
		if fr.op == "func.return" {
			if strings.Join(opTypes, ", ") != strings.Join(results, ", ") {
				return fmt.Errorf("line %d: return of %v from a function returning %v", ln, opTypes, results)
			}
			return nil
		}
		if len(resTypes) != fr.nres {
			return fmt.Errorf("line %d: %s defines %d results with %d types", ln, fr.op, fr.nres, len(resTypes))
		}
		for k, t := range resTypes {
			if !strings.HasPrefix(t, "tensor<") {
				return fmt.Errorf("line %d: %s result type %q", ln, fr.op, t)
			}
			name := fr.name
			if fr.nres > 1 {
				name += "#" + strconv.Itoa(k)
			}
			if _, dup := types[name]; dup {
				return fmt.Errorf("line %d: %s redefined", ln, name)
			}
			types[name] = t
		}
		return nil
	}
	for ln0, raw := range lines {
		ln := ln0 + 1
		line := strings.TrimSpace(raw)
		switch {
		case line == "" || line == "}" || strings.HasPrefix(line, "module @"):
		case strings.HasPrefix(line, "func.func "):
			m := reFunc.FindStringSubmatch(line)
			if m == nil {
				return fmt.Errorf("line %d: malformed function header", ln)
			}
			if m[1] != "" {
				for _, a := range strings.Split(m[1], ", ") {
					nt := strings.SplitN(a, ": ", 2)
					if len(nt) != 2 {
						return fmt.Errorf("line %d: malformed argument %q", ln, a)
					}
					t := nt[1]
					if j := strings.Index(t, " {"); j >= 0 { // argument attributes (aliasing)
						if !strings.HasSuffix(t, "}") {
							return fmt.Errorf("line %d: malformed argument attributes %q", ln, a)
						}
						t = t[:j]
					}
					types[nt[0]] = t
				}
			}
			results = splitTypes(m[2])
		case strings.HasPrefix(line, "^bb"):
			m := reBlock.FindStringSubmatch(line)
			if m == nil || len(stack) == 0 {
				return fmt.Errorf("line %d: malformed block header", ln)
			}
			for _, a := range strings.Split(m[1], ", ") {
				nt := strings.SplitN(a, ": ", 2)
				if len(nt) != 2 || !strings.HasPrefix(nt[1], "tensor<") {
					return fmt.Errorf("line %d: malformed block argument %q", ln, a)
				}
				if _, dup := types[nt[0]]; dup {
					return fmt.Errorf("line %d: %s redefined", ln, nt[0])
				}
				types[nt[0]] = nt[1]
			}
		case line == "}, {":
			if len(stack) == 0 {
				return fmt.Errorf("line %d: region separator outside an op", ln)
			}
		case strings.HasPrefix(line, "})"):
			if len(stack) == 0 {
				return fmt.Errorf("line %d: region end outside an op", ln)
			}
			fr := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if err := check(ln, fr, line[2:]); err != nil {
				return err
			}
		default:
			m := reOp.FindStringSubmatch(line)
			if m == nil {
				return fmt.Errorf("line %d: cannot read %q", ln, line)
			}
			fr := frame{name: m[1], nres: 0, op: m[3]}
			if m[1] != "" {
				fr.nres = 1
				if m[2] != "" {
					fr.nres, _ = strconv.Atoi(m[2])
				}
			}
			if !knownOps[fr.op] {
				return fmt.Errorf("line %d: unknown op %s", ln, fr.op)
			}
			if m[4] != "" {
				fr.operands = strings.Split(m[4], ", ")
			}
			rest := m[5]
			if strings.HasSuffix(rest, "({") {
				if !regionOps[fr.op] {
					return fmt.Errorf("line %d: %s takes no region", ln, fr.op)
				}
				stack = append(stack, fr)
				continue
			}
			if regionOps[fr.op] {
				return fmt.Errorf("line %d: %s needs a region", ln, fr.op)
			}
			if err := check(ln, fr, rest); err != nil {
				return err
			}
		}
	}
	if len(stack) != 0 {
		return fmt.Errorf("unterminated region of %s", stack[len(stack)-1].op)
	}
	return nil
}

var (
	reFunc  = regexp.MustCompile(`^func\.func public @main\((.*)\) -> \((.*)\) \{$`)
	reBlock = regexp.MustCompile(`^\^bb0\((.*)\):$`)
	reOp    = regexp.MustCompile(`^(?:(%[0-9]+)(?::([0-9]+))? = )?"([a-z0-9_.]+)"\(([^()]*)\)(.*)$`)
)

var knownOps = map[string]bool{}

var regionOps = map[string]bool{"stablehlo.reduce": true, "stablehlo.reduce_window": true,
	"stablehlo.scatter": true, "stablehlo.sort": true}

func init() {
	for _, op := range strings.Fields(`stablehlo.add stablehlo.subtract stablehlo.multiply
		stablehlo.divide stablehlo.remainder stablehlo.power stablehlo.maximum stablehlo.minimum
		stablehlo.atan2 stablehlo.and stablehlo.or stablehlo.xor stablehlo.not stablehlo.shift_left
		stablehlo.shift_right_arithmetic stablehlo.shift_right_logical stablehlo.negate stablehlo.abs
		stablehlo.sign stablehlo.exponential stablehlo.log stablehlo.log_plus_one
		stablehlo.exponential_minus_one stablehlo.sqrt stablehlo.rsqrt stablehlo.sine
		stablehlo.cosine stablehlo.tanh stablehlo.logistic stablehlo.floor stablehlo.ceil
		stablehlo.round_nearest_even stablehlo.compare stablehlo.select stablehlo.convert
		stablehlo.broadcast_in_dim stablehlo.reshape stablehlo.transpose stablehlo.slice
		stablehlo.dynamic_update_slice stablehlo.dynamic_slice stablehlo.concatenate stablehlo.pad stablehlo.reverse
		stablehlo.iota stablehlo.constant stablehlo.reduce stablehlo.reduce_window
		stablehlo.dot_general stablehlo.gather stablehlo.scatter stablehlo.sort
		stablehlo.convolution stablehlo.custom_call stablehlo.return func.return chlo.erf chlo.erf_inv`) {
		knownOps[op] = true
	}
}

// splitTypes splits a comma-separated type list at the top level.
func splitTypes(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	var out []string
	depth, start := 0, 0
	for i, c := range s {
		switch c {
		case '<', '(', '[':
			depth++
		case '>', ')', ']':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

// balanced checks (), [], {} and <> nesting, ignoring the arrow "->" and quoted strings.
func balanced(text string) error {
	var st []rune
	pair := map[rune]rune{')': '(', ']': '[', '}': '{', '>': '<'}
	inStr := false
	prev := rune(0)
	for i, c := range text {
		if inStr {
			if c == '"' && prev != '\\' {
				inStr = false
			}
			prev = c
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '(', '[', '{', '<':
			st = append(st, c)
		case ')', ']', '}', '>':
			if c == '>' && prev == '-' {
				break
			}
			if len(st) == 0 || st[len(st)-1] != pair[c] {
				return fmt.Errorf("unbalanced %q at offset %d", c, i)
			}
			st = st[:len(st)-1]
		}
		prev = c
	}
	if len(st) != 0 {
		return fmt.Errorf("%d unclosed brackets", len(st))
	}
	return nil
}

// CheckBackend lowers and verifies every Program it is given, then runs it on Inner. Tests use
// it to push whole suites through the lowering on machines without a GPU.
type CheckBackend struct {
	Inner prim.Backend
	Opts  Options

	mu       sync.Mutex
	programs map[string]bool
	ops      map[string]int
}

// NewCheckBackend wraps inner.
func NewCheckBackend(inner prim.Backend) *CheckBackend {
	return &CheckBackend{Inner: inner, programs: map[string]bool{}, ops: map[string]int{}}
}

// Name is "xlacheck".
func (c *CheckBackend) Name() string { return "xlacheck" }

// Traits are Inner's: the values come from its kernels.
func (c *CheckBackend) Traits() prim.Traits { return prim.TraitsOf(c.Inner) }

// FromHost delegates to Inner.
func (c *CheckBackend) FromHost(dtype prim.DType, shape []int, data any) prim.Buffer {
	return c.Inner.FromHost(dtype, shape, data)
}

// ToHost delegates to Inner.
func (c *CheckBackend) ToHost(b prim.Buffer, dtype prim.DType, shape []int) any {
	return c.Inner.ToHost(b, dtype, shape)
}

// Compile lowers p, verifies the text and compiles p on Inner.
func (c *CheckBackend) Compile(p *prim.Program) (prim.Executable, error) {
	text, err := Lower(p, c.Opts)
	if err != nil {
		return nil, err
	}
	if err := Verify(text); err != nil {
		return nil, fmt.Errorf("xla: verifying the lowering of\n%s: %v\n%s", p, err, text)
	}
	c.mu.Lock()
	c.programs[p.Key()] = true
	for _, n := range p.Nodes {
		c.ops[n.Op.Name()]++
	}
	c.mu.Unlock()
	return c.Inner.Compile(p)
}

// Stats reports the number of distinct programs seen and the primitives lowered, by name.
func (c *CheckBackend) Stats() (programs int, ops []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, v := range c.ops {
		ops = append(ops, fmt.Sprintf("%s:%d", k, v))
	}
	sort.Strings(ops)
	return len(c.programs), ops
}
