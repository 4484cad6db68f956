package models

import (
	"fmt"
	"math"

	"github.com/lmxlab/lmxlab/core"
	"github.com/lmxlab/lmxlab/mx"
	"github.com/lmxlab/lmxlab/mx/random"
	"github.com/lmxlab/lmxlab/nn"
)

// LanguageModel is the decoder-only transformer every architecture is built as.
type LanguageModel struct {
	nn.Frozen
	Embed     *nn.Embedding
	PosEmbed  *nn.Embedding `nn:"pos_embed"` // learned positions only
	Blocks    []*core.Block
	FinalNorm core.Norm
	Head      *nn.Linear // nil when tied

	Config ModelConfig `nn:"-"`
	// ComputeDType is the dtype the blocks compute in (see SetComputeDType); the zero value and
	// Float32 mean float32. Parameters keep their own dtype (float32 master weights).
	ComputeDType mx.DType `nn:"-"`
}

// SetComputeDType makes the forward pass compute in dt (mixed precision): the embedded tokens
// (looked up and position-encoded in the parameters' float32) are cast to dt, so every Linear
// and the attention run in dt with their float32 weights cast to dt at use, norms compute their
// statistics in float32 and return dt, and the logits come back as float32 for the softmax and
// the loss. Gradients reach the float32 parameters as float32 through the casts. dt must be
// Float32 (the default: no cast anywhere, bit for bit the plain model) or BFloat16. (Float16
// is not offered: its narrow range needs loss scaling, which the trainer does not do.)
func (m *LanguageModel) SetComputeDType(dt mx.DType) error {
	switch dt {
	case mx.Float32, mx.BFloat16:
		m.ComputeDType = dt
		return nil
	}
	return fmt.Errorf("models: compute dtype must be float32 or bfloat16, got %s", dt)
}

// ParseComputeDType maps a --dtype flag value ("fp32", "float32", "bf16", "bfloat16") to a
// compute dtype.
func ParseComputeDType(s string) (mx.DType, error) {
	switch s {
	case "", "fp32", "float32", "f32":
		return mx.Float32, nil
	case "bf16", "bfloat16":
		return mx.BFloat16, nil
	}
	return mx.Float32, fmt.Errorf("unknown compute dtype %q (want fp32 or bf16)", s)
}

// computesLow reports whether the forward pass casts to a narrower compute dtype.
func (m *LanguageModel) computesLow() bool { return m.ComputeDType == mx.BFloat16 }

// New builds a model with freshly initialised parameters drawn from key (nil: the default key),
// evaluated, so later forward passes do not recompute the initialisation.
func New(cfg ModelConfig, key *mx.Array) (*LanguageModel, error) {
	m, err := Build(cfg, key)
	if err != nil {
		return nil, err
	}
	mx.Eval(nn.Values(nn.Parameters(m))...)
	return m, nil
}

// Build is New without evaluating the parameters: they stay lazy recipes, which costs nothing
// until they are read. Use it to inspect or count a model too large to materialise (a 7B config
// builds in milliseconds); use New to run it.
func Build(cfg ModelConfig, key *mx.Array) (*LanguageModel, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d := cfg.Block.DModel
	keys := make([]*mx.Array, cfg.NLayers+3)
	if key != nil {
		ks := random.Split(key, len(keys))
		for i := range keys {
			keys[i] = random.At(ks, i)
		}
	}
	m := &LanguageModel{Config: cfg, Embed: nn.NewEmbedding(cfg.VocabSize, d, keys[0])}
	if cfg.Block.Position == "learned" {
		m.PosEmbed = nn.NewEmbedding(cfg.Block.MaxSeqLen, d, keys[1])
	}
	for i := 0; i < cfg.NLayers; i++ {
		b, err := core.NewBlock(cfg.BlockAt(i), keys[3+i])
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		m.Blocks = append(m.Blocks, b)
	}
	newNorm, err := core.Norms.Get(cfg.Block.Norm)
	if err != nil {
		return nil, err
	}
	if m.FinalNorm, err = newNorm(cfg.Block, d); err != nil {
		return nil, err
	}
	if !cfg.TieEmbeddings {
		m.Head = nn.NewLinear(d, cfg.VocabSize, false, keys[2])
	}
	if cfg.MupBaseWidth > 0 {
		m.applyMupInit()
	}
	return m, nil
}

// applyMupInit scales every block matrix and the untied head by 1/sqrt(width_mult).
func (m *LanguageModel) applyMupInit() {
	s := 1 / math.Sqrt(m.Config.WidthMult())
	up := map[string]*mx.Array{}
	for _, p := range nn.Parameters(m) {
		if p.Value.NDim() >= 2 && p.Name != "embed.weight" && p.Name != "pos_embed.weight" {
			up[p.Name] = mx.MulScalar(p.Value, s)
		}
	}
	if err := nn.Update(m, up); err != nil {
		panic(err)
	}
}

// Cache is the decoding state of a whole model: one entry per layer (nil for stateless layers).
type Cache struct {
	Layers []core.Cache
}

// NewCache makes empty caches for batch rows and up to capacity positions.
func (m *LanguageModel) NewCache(batch, capacity int) *Cache {
	c := &Cache{Layers: make([]core.Cache, len(m.Blocks))}
	for i, b := range m.Blocks {
		c.Layers[i] = b.NewCache(batch, capacity)
	}
	return c
}

// NewStaticCache makes static caches (see core.Context.Position) for batch rows and capacity
// positions, in the dtype the blocks compute in, for decoding with ForwardOptions.Position. It
// fails when a layer's mixer has no static cache.
func (m *LanguageModel) NewStaticCache(batch, capacity int) (*Cache, error) {
	dt := m.Embed.Weight.DType()
	if m.computesLow() {
		dt = m.ComputeDType
	}
	c := &Cache{Layers: make([]core.Cache, len(m.Blocks))}
	for i, b := range m.Blocks {
		l, err := b.NewStaticCache(batch, capacity, dt)
		if err != nil {
			return nil, fmt.Errorf("models: static cache of layer %d: %w", i, err)
		}
		c.Layers[i] = l
	}
	return c, nil
}

// WithArrays returns a copy of c whose state arrays are replaced by arrays, given in the order of
// Arrays (a compiled decode step rebuilds its caches around its arguments this way). It panics
// if a layer's cache cannot swap its arrays or the count is wrong.
func (c *Cache) WithArrays(arrays []*mx.Array) *Cache {
	out := &Cache{Layers: make([]core.Cache, len(c.Layers))}
	for i, l := range c.Layers {
		if l == nil {
			continue
		}
		ac, ok := l.(core.ArrayCache)
		if !ok {
			panic(fmt.Sprintf("models.Cache.WithArrays: the cache of layer %d (%T) cannot swap its arrays", i, l))
		}
		n := len(l.Arrays())
		if len(arrays) < n {
			panic(fmt.Sprintf("models.Cache.WithArrays: too few arrays for layer %d", i))
		}
		out.Layers[i] = ac.WithArrays(arrays[:n])
		arrays = arrays[n:]
	}
	if len(arrays) != 0 {
		panic(fmt.Sprintf("models.Cache.WithArrays: %d arrays left over", len(arrays)))
	}
	return out
}

// capacity is the largest capacity of the layers' caches (0 if none reports one).
func (c *Cache) capacity() int {
	n := 0
	for _, l := range c.Layers {
		if kc, ok := l.(interface{ Capacity() int }); ok {
			n = max(n, kc.Capacity())
		}
	}
	return n
}

// Len is the number of positions already processed.
func (c *Cache) Len() int {
	for _, l := range c.Layers {
		if l != nil {
			return l.Len()
		}
	}
	return 0
}

// Arrays lists every state array (to evaluate with the logits).
func (c *Cache) Arrays() []*mx.Array {
	var out []*mx.Array
	for _, l := range c.Layers {
		if l != nil {
			out = append(out, l.Arrays()...)
		}
	}
	return out
}

// ForwardOptions tunes a forward pass.
type ForwardOptions struct {
	Cache *Cache    // continue from (and extend) these caches
	Key   *mx.Array // enables dropout, seeded by this key
	Mask  *mx.Array // padding mask, see core.Context
	// Offset overrides the starting position when no cache is given (e.g. to score a suffix).
	Offset int
	// Position, when set, is the starting position as a run-time integer scalar array, for
	// static decoding (see core.Context.Position): the caches, if given, must be static
	// (NewStaticCache), and Offset and the caches' lengths are ignored. A decode step written
	// this way has the same graph at every position, so mx.Compile traces it once.
	Position *mx.Array
	// HeadWeight, when set, replaces the tied embedding table in the output projection: the
	// table already cast to the compute dtype, so that a decode step does not cast it again at
	// every token (the logits are the same, since the projection casts the table anyway).
	HeadWeight *mx.Array
}

// Forward maps token ids (B, L) to logits (B, L, vocab), float32 for float32 or mixed-precision
// models.
func (m *LanguageModel) Forward(ids *mx.Array, opts ForwardOptions) *mx.Array {
	return m.logits(m.Hidden(ids, opts), opts.HeadWeight)
}

// Hidden returns the final-norm hidden states (B, L, d), in the compute dtype.
func (m *LanguageModel) Hidden(ids *mx.Array, opts ForwardOptions) *mx.Array {
	if ids.NDim() != 2 {
		panic(fmt.Sprintf("models.Forward: token ids must be (B, L), got %v", ids.Shape()))
	}
	offset := opts.Offset
	if opts.Cache != nil {
		offset = opts.Cache.Len()
	}
	l := ids.Dim(1)
	h := m.Embed.Forward(ids)
	if s := m.Config.EmbeddingScale; s != 0 {
		h = mx.MulScalar(h, s)
	}
	if opts.Position != nil {
		h = m.addPositionsAt(h, opts)
	} else {
		switch m.Config.Block.Position {
		case "sinusoidal":
			h = mx.Add(h, mx.AsType(core.Sinusoidal(offset, l, m.Config.Block.DModel), h.DType()))
		case "learned":
			if offset+l > m.PosEmbed.Weight.Dim(0) {
				panic(fmt.Sprintf("models.Forward: positions up to %d exceed max_seq_len %d", offset+l, m.PosEmbed.Weight.Dim(0)))
			}
			pos := mx.Arange(float64(offset), float64(offset+l), 1, mx.Int32)
			h = mx.Add(h, m.PosEmbed.Forward(pos))
		}
	}
	if m.computesLow() {
		h = mx.AsType(h, m.ComputeDType)
	}
	var keys []*mx.Array
	if opts.Key != nil {
		ks := random.Split(opts.Key, len(m.Blocks)+1)
		for i := 0; i <= len(m.Blocks); i++ {
			keys = append(keys, random.At(ks, i))
		}
		if p := m.Config.Block.Dropout; p > 0 {
			h = nn.Dropout(h, p, keys[len(m.Blocks)])
		}
	}
	for i, b := range m.Blocks {
		ctx := &core.Context{Offset: offset, Position: opts.Position, Mask: opts.Mask}
		if keys != nil {
			ctx.Key = keys[i]
		}
		var c core.Cache
		if opts.Cache != nil {
			c = opts.Cache.Layers[i]
		}
		h = b.Forward(h, ctx, c)
	}
	return m.FinalNorm.Forward(h)
}

// addPositionsAt adds learned or sinusoidal position embeddings for the rows at the run-time
// positions opts.Position, opts.Position+1, ... (the learned table is indexed at run time, so a
// position past max_seq_len is an evaluation error on the cpu backend and clamps under XLA; the
// sinusoidal table is built up to max_seq_len or the caches' capacity, if larger).
func (m *LanguageModel) addPositionsAt(h *mx.Array, opts ForwardOptions) *mx.Array {
	pos := core.PositionsFrom(opts.Position, h.Dim(1))
	switch m.Config.Block.Position {
	case "sinusoidal":
		n := m.Config.Block.MaxSeqLen
		if opts.Cache != nil {
			n = max(n, opts.Cache.capacity())
		}
		table := core.Sinusoidal(0, n, m.Config.Block.DModel)
		return mx.Add(h, mx.AsType(mx.Take(table, pos, 0), h.DType()))
	case "learned":
		return mx.Add(h, m.PosEmbed.Forward(pos))
	}
	return h
}

// Logits projects hidden states onto the vocabulary.
func (m *LanguageModel) Logits(h *mx.Array) *mx.Array { return m.logits(h, nil) }

// logits is Logits with an optional replacement for the tied table (ForwardOptions.HeadWeight).
func (m *LanguageModel) logits(h, tied *mx.Array) *mx.Array {
	var logits *mx.Array
	switch {
	case m.Head != nil:
		logits = m.Head.Forward(h)
	case tied != nil:
		logits = (&nn.Embedding{Weight: tied}).AsLinear(h)
	default:
		logits = m.Embed.AsLinear(h)
	}
	if m.computesLow() {
		logits = mx.AsType(logits, mx.Float32) // scaling, softcap, softmax and loss in float32
	}
	if w := m.Config.WidthMult(); w != 1 {
		logits = mx.DivScalar(logits, w)
	}
	if c := m.Config.LogitSoftcap; c > 0 {
		logits = mx.MulScalar(mx.Tanh(mx.DivScalar(logits, c)), c)
	}
	return logits
}

// Loss is the mean token cross-entropy of the model on inputs x and shifted targets y (both
// (B, L) int32); targets < 0 are ignored.
func (m *LanguageModel) Loss(x, y *mx.Array, key *mx.Array) *mx.Array {
	logits := m.Forward(x, ForwardOptions{Key: key})
	return MeanCrossEntropy(logits, y)
}

// MeanCrossEntropy averages the per-token cross-entropy over the targets that are not ignored
// (negative), computing in float32.
func MeanCrossEntropy(logits, targets *mx.Array) *mx.Array {
	v := logits.Dim(-1)
	flat := mx.Reshape(mx.AsType(logits, mx.Float32), -1, v)
	t := mx.Reshape(targets, -1)
	losses := mx.CrossEntropy(flat, t)
	valid := mx.AsType(mx.GreaterEqual(t, mx.Zeros(nil, t.DType())), mx.Float32)
	return mx.Div(mx.Sum(losses, nil, false), mx.MaximumScalar(mx.Sum(valid, nil, false), 1))
}

// NumParams counts all parameters (frozen ones included).
func (m *LanguageModel) NumParams() int { return nn.NumParams(m) }
