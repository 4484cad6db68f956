package generate

import (
	"fmt"
	"reflect"
	"time"

	"github.com/lmxlab/lmxlab/models"
	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/mx/random"
	"github.com/lmxlab/lmxlab/nn"
)

// DecodeMode selects how Generate runs the decode steps that follow the prefill.
type DecodeMode int

const (
	// DecodeAuto compiles the decode steps when the default device is not the cpu (on the gpu
	// backend every new graph is a new XLA compilation, so eager decoding would compile at every
	// token) and the model has static caches; otherwise it decodes eagerly.
	DecodeAuto DecodeMode = iota
	// DecodeEager builds each step's graph with the positions known on the host: dynamic caches
	// whose keys grow with the sequence. On the cpu backend it is the faster path.
	DecodeEager
	// DecodeCompiled runs every decode step through one mx.Compile'd function over static
	// caches, with the position as a run-time argument: traced and compiled once.
	DecodeCompiled
)

// A Decoder runs the decode steps of one model with one sampler as a single compiled function:
//
//	inputs:  the model's parameters, the last tokens (B, 1) int32, their position (int32
//	         scalar), the random key, the static caches' arrays [, the seen-token mask]
//	inside:  the forward pass with ForwardOptions.Position, then the same sampling as the eager
//	         path (split the key, sample, mark the token seen)
//	outputs: the next tokens (B, 1), the new key, the new caches' arrays [, the new mask]
//
// Every step after the prefill has the same signature, so the function is traced once per
// batch size and cache capacity and replayed for every token. The capacity (the prompt plus the
// tokens to generate, or the context window) is rounded up to a multiple of staticCapacityStep,
// so that generations of similar lengths share one compilation; the extra positions are masked. The prefill runs the same static
// forward pass eagerly. Pass a Decoder in Options to reuse its compilation across Generate
// calls (a benchmark's warm-up and timed runs); a Decoder is not safe for concurrent use.
//
// Parameters are inputs, not constants, so a Decoder follows later changes to the model. In a
// mixed-precision model the Linear weights (and the tied head's table) are cast to the compute
// dtype once per Generate call instead of at every step; the layers cast them anyway, so the
// results are unchanged.
type Decoder struct {
	model       *models.LanguageModel
	sampler     Sampler
	step        *mx.Compiled
	compileTime time.Duration
	// Bound while the step is traced: the layout of the inputs.
	nParams, nCache int
	tiedHead        bool
	donating        bool // the step donates the cache arrays (set before its first call)
}

// NewDecoder makes the compiled decoder of m with sampler s.
func NewDecoder(m *models.LanguageModel, s Sampler) *Decoder {
	d := &Decoder{model: m, sampler: s}
	d.step = mx.Compile(d.stepFn)
	return d
}

// Traces is the number of times the step has been traced: 1 after any number of tokens, as long
// as the batch size and the cache capacity stay the same.
func (d *Decoder) Traces() int { return d.step.Traces() }

// CompileTime is the wall time of the step calls that traced and compiled (each including that
// call's own run).
func (d *Decoder) CompileTime() time.Duration { return d.compileTime }

// stepFn is the compiled function; see Decoder for its arguments.
func (d *Decoder) stepFn(a ...*mx.Array) []*mx.Array {
	m := d.model
	orig := nn.Values(nn.Parameters(m))
	nn.UpdateList(m, a[:d.nParams])
	defer nn.UpdateList(m, orig)
	a = a[d.nParams:]
	var head *mx.Array
	if d.tiedHead {
		head, a = a[0], a[1:]
	}
	tokens, pos, key := a[0], a[1], a[2]
	caches := a[3 : 3+d.nCache]
	var seen *mx.Array
	if len(a) > 3+d.nCache {
		seen = a[3+d.nCache]
	}
	layout, err := m.NewStaticCache(tokens.Dim(0), caches[0].Dim(2))
	if err != nil {
		panic(err) // checked before the first call
	}
	cache := layout.WithArrays(caches)
	logits := m.Forward(tokens, models.ForwardOptions{Cache: cache, Position: pos, HeadWeight: head})
	next, key, seen := sampleNext(d.sampler, logits, seen, key)
	out := append([]*mx.Array{mx.Reshape(next, -1, 1), key}, cache.Arrays()...)
	if seen != nil {
		out = append(out, seen)
	}
	return out
}

// sampleNext draws the next token of every row from the last position's logits (B, L, V), as
// both decode paths do: split the key, sample with one half, keep the other, and mark the new
// tokens in seen (nil when no penalty needs it).
func sampleNext(s Sampler, logits, seen, key *mx.Array) (next, newKey, newSeen *mx.Array) {
	b := logits.Dim(0)
	last := mx.Reshape(mx.SliceAxis(logits, 1, logits.Dim(1)-1, logits.Dim(1)), b, -1)
	ks := random.Split(key, 2)
	next = s.Sample(last, seen, random.At(ks, 1))
	if seen != nil {
		seen = mx.PutAlongAxis(seen, mx.Reshape(next, b, 1), mx.Ones([]int{b, 1}, mx.Bool), -1)
	}
	return next, random.At(ks, 0), seen
}

// decodeLoop is one generation's decoding state: prefill starts over from a prompt (B, L) on
// fresh caches, step feeds the last tokens; both return the next token of every row.
type decodeLoop interface {
	prefill(input *mx.Array) []int
	step() []int
	// length is the number of positions in the caches.
	length() int
}

// eagerLoop decodes with dynamic caches, building each step's graph at its position.
type eagerLoop struct {
	m               *models.LanguageModel
	s               Sampler
	batch, capacity int
	cache           *models.Cache
	key, seen, next *mx.Array
}

func (e *eagerLoop) prefill(input *mx.Array) []int {
	e.cache = e.m.NewCache(e.batch, e.capacity)
	return e.run(input)
}

func (e *eagerLoop) step() []int { return e.run(mx.Reshape(e.next, e.batch, 1)) }

func (e *eagerLoop) length() int { return e.cache.Len() }

func (e *eagerLoop) run(input *mx.Array) []int {
	logits := e.m.Forward(input, models.ForwardOptions{Cache: e.cache})
	e.next, e.key, e.seen = sampleNext(e.s, logits, e.seen, e.key)
	arrays := append([]*mx.Array{e.next, e.key}, e.cache.Arrays()...)
	if e.seen != nil {
		arrays = append(arrays, e.seen)
	}
	mx.Eval(arrays...)
	return e.next.Ints()
}

// compiledLoop decodes with static caches: an eager static prefill, then the Decoder's step.
type compiledLoop struct {
	d               *Decoder
	batch, capacity int
	params          []*mx.Array // the model's parameters, Linear weights in the compute dtype
	head            *mx.Array   // the tied table in the compute dtype, or nil
	pos             int
	cache           *models.Cache
	key, seen, next *mx.Array
}

// staticCapacityStep is what compiled decoding rounds cache capacities up to.
const staticCapacityStep = 64

func newCompiledLoop(d *Decoder, batch, capacity int, key, seen *mx.Array) (*compiledLoop, error) {
	m := d.model
	capacity = (capacity + staticCapacityStep - 1) / staticCapacityStep * staticCapacityStep
	if _, err := m.NewStaticCache(batch, capacity); err != nil {
		return nil, fmt.Errorf("generate: compiled decoding: %w", err)
	}
	c := &compiledLoop{d: d, batch: batch, capacity: capacity, key: key, seen: seen}
	c.params, c.head = decodeParams(m)
	mx.Eval(append(c.params[:len(c.params):len(c.params)], c.head)...)
	return c, nil
}

func (c *compiledLoop) length() int { return c.pos }

func (c *compiledLoop) prefill(input *mx.Array) []int {
	m := c.d.model
	var err error
	if c.cache, err = m.NewStaticCache(c.batch, c.capacity); err != nil {
		panic(err) // checked by newCompiledLoop
	}
	logits := m.Forward(input, models.ForwardOptions{Cache: c.cache, Position: mx.Scalar(0, mx.Int32), HeadWeight: c.head})
	var next *mx.Array
	next, c.key, c.seen = sampleNext(c.d.sampler, logits, c.seen, c.key)
	c.next = mx.Reshape(next, c.batch, 1)
	arrays := append([]*mx.Array{c.next, c.key}, c.cache.Arrays()...)
	if c.seen != nil {
		arrays = append(arrays, c.seen)
	}
	mx.Eval(arrays...)
	c.pos = input.Dim(1)
	return c.next.Ints()
}

func (c *compiledLoop) step() []int {
	d := c.d
	caches := c.cache.Arrays()
	d.nParams, d.nCache, d.tiedHead = len(c.params), len(caches), c.head != nil
	args := append([]*mx.Array{}, c.params...)
	if c.head != nil {
		args = append(args, c.head)
	}
	// The position comes from the host as a buffer, not as a constant op: an op would make a
	// new eager program to evaluate at every step.
	args = append(args, c.next, mx.FromSlice([]int32{int32(c.pos)}), c.key)
	args = append(args, caches...)
	if c.seen != nil {
		args = append(args, c.seen)
	}
	if before := d.step.Traces(); before == 0 && !d.donating {
		// The caches (the step's largest inputs) are replaced by its outputs: donated, the
		// gpu device writes the new position in place instead of copying every cache.
		first := len(args) - len(caches)
		if c.seen != nil {
			first--
		}
		give := make([]int, len(caches))
		for i := range give {
			give[i] = first + i
		}
		d.step.Donate(give...)
		d.donating = true
	}
	before := d.step.Traces()
	t0 := time.Now()
	out := d.step.Call(args...)
	c.next, c.key = out[0], out[1]
	c.cache = c.cache.WithArrays(out[2 : 2+len(caches)])
	if c.seen != nil {
		c.seen = out[2+len(caches)]
	}
	toks := c.next.Ints()
	if d.step.Traces() != before {
		d.compileTime += time.Since(t0)
	}
	c.pos++
	return toks
}

// decodeParams lists m's parameters for a compiled step and the tied head's table (nil unless
// the model is tied and computes in a narrower dtype). In a mixed-precision model every Linear
// weight and bias is cast to the compute dtype here, once, since Linear casts it at use anyway.
func decodeParams(m *models.LanguageModel) (params []*mx.Array, head *mx.Array) {
	params = nn.Values(nn.Parameters(m))
	dt := m.ComputeDType
	if dt == 0 || dt == mx.Float32 {
		return params, nil
	}
	linear := linearArrays(m)
	for i, p := range params {
		if linear[p] && p.DType() != dt {
			params[i] = mx.AsType(p, dt)
		}
	}
	if m.Head == nil {
		head = mx.AsType(m.Embed.Weight, dt)
	}
	return params, head
}

// linearArrays finds the weights and biases of every *nn.Linear reachable from v.
func linearArrays(v any) map[*mx.Array]bool {
	out := map[*mx.Array]bool{}
	seen := map[uintptr]bool{}
	var walk func(r reflect.Value)
	walk = func(r reflect.Value) {
		switch r.Kind() {
		case reflect.Pointer, reflect.Interface:
			if r.IsNil() || r.Type() == reflect.TypeFor[*mx.Array]() {
				return
			}
			if r.Kind() == reflect.Pointer {
				if seen[r.Pointer()] {
					return
				}
				seen[r.Pointer()] = true
				if l, ok := r.Interface().(*nn.Linear); ok {
					out[l.Weight] = true
					if l.Bias != nil {
						out[l.Bias] = true
					}
					return
				}
			}
			walk(r.Elem())
		case reflect.Struct:
			for i := 0; i < r.NumField(); i++ {
				if r.Type().Field(i).IsExported() {
					walk(r.Field(i))
				}
			}
		case reflect.Slice:
			for i := 0; i < r.Len(); i++ {
				walk(r.Index(i))
			}
		}
	}
	walk(reflect.ValueOf(v))
	return out
}
