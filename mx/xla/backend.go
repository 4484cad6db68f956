//go:build cgo && linux && amd64

package xla

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gomlx/go-xla/pkg/pjrt"
	"github.com/gomlx/go-xla/pkg/types/dtypes"
	"github.com/lmxlab/lmxlab/mx/prim"
)

// Backend runs Programs on a PJRT device (the first GPU of a CUDA plugin). Arrays stay on the
// device; host transfers happen only in FromHost and ToHost. Each distinct Program structure
// is lowered and compiled once and cached by Program.Key.
type Backend struct {
	plugin *pjrt.Plugin
	client *pjrt.Client
	opts   Options

	mu    sync.Mutex
	cache map[string]*executable

	// allocated counts the bytes of device buffers created since the last forced garbage
	// collection: device memory is freed by finalizers, which the Go heap alone would not run
	// often enough.
	allocated atomic.Int64
	gcEvery   int64

	compiles    atomic.Int64
	compileTime atomic.Int64 // nanoseconds
}

// Buffer is a device buffer.
type Buffer struct {
	b     *pjrt.Buffer
	bytes int
}

// Bytes is the buffer's size in bytes.
func (b *Buffer) Bytes() int { return b.bytes }

// Open loads the plugin found by FindPlugin and creates a client on it. The client does not
// preallocate GPU memory: it grows on demand up to LMXLAB_XLA_MEM_FRACTION (default 0.9) of it.
func Open() (*Backend, error) {
	path, err := FindPlugin()
	if err != nil {
		return nil, err
	}
	// go-xla's CUDA check rewrites XLA_FLAGS with a folder of its own when it finds the nvidia
	// libraries beside the plugin; the plugin finds them by itself.
	if os.Getenv("GOPJRT_CUDA_CHECKS") == "" {
		os.Setenv("GOPJRT_CUDA_CHECKS", "0")
	}
	setXLAFlags()
	plugin, err := pjrt.GetPlugin(path)
	if err != nil {
		return nil, fmt.Errorf("xla: loading PJRT plugin %s: %w", path, err)
	}
	frac := float32(0.9)
	if s := os.Getenv("LMXLAB_XLA_MEM_FRACTION"); s != "" {
		v, err := strconv.ParseFloat(s, 32)
		if err != nil || v <= 0 || v > 1 {
			return nil, fmt.Errorf("xla: LMXLAB_XLA_MEM_FRACTION=%s: want a number in (0, 1]", s)
		}
		frac = float32(v)
	}
	client, err := plugin.NewClient(pjrt.NamedValuesMap{"preallocate": false, "memory_fraction": frac})
	if err != nil {
		return nil, fmt.Errorf("xla: creating a client of %s: %w", plugin, err)
	}
	if len(client.AddressableDevices()) == 0 {
		return nil, fmt.Errorf("xla: plugin %s sees no device", path)
	}
	b := &Backend{plugin: plugin, client: client, cache: map[string]*executable{}, gcEvery: 4 << 30}
	b.opts.TF32 = os.Getenv("LMXLAB_XLA_TF32") == "1"
	b.opts.CuDNNAttention = os.Getenv("LMXLAB_XLA_CUDNN") != "0"
	b.opts.CuDNNLayoutBTNH = os.Getenv("LMXLAB_XLA_CUDNN_LAYOUT") != "bhnd"
	return b, nil
}

// defaultXLAFlags are added to XLA_FLAGS unless it sets them already: matrix products through
// cuBLAS rather than autotuned Triton fusions (much faster compiles). With
// LMXLAB_XLA_STRICT_BF16=1, also --xla_allow_excess_precision=false: a value rounded to
// bfloat16 then stays rounded inside fusions, as on the cpu backend (the device test suites run
// so, to compare with the cpu backend's values). By default XLA may skip such f32→bf16→f32 round
// trips, as JAX lets it; that is worth about a quarter of a bf16 GPT-2 training step.
//
// LMXLAB_XLA_COMMAND_BUFFERS=0 turns XLA's command buffers (CUDA graphs) off, to compare: on an
// H100 the bf16 GPT-2-small training step (buffers donated) ran at 391,584 tokens/s without them
// and 399,166 with them in the same call.
//
// --xla_disable_hlo_passes=triton-softmax-rewriter: XLA's Triton normalization fusions have a
// single result, so a LayerNorm's statistics are recomputed in the backward pass and its float32
// result is rounded to bfloat16 by a kernel of its own; the native reduction fusions write
// several results at once. On an H100 the bf16 GPT-2-small step ran at 403,244 tokens/s without
// the pass and 385,845 with it, in one call (one update a call).
func defaultXLAFlags() []string {
	fl := []string{"--xla_gpu_enable_triton_gemm=false", "--xla_disable_hlo_passes=triton-softmax-rewriter"}
	if os.Getenv("LMXLAB_XLA_COMMAND_BUFFERS") == "0" {
		fl = append(fl, "--xla_gpu_enable_command_buffer=")
	}
	if os.Getenv("LMXLAB_XLA_STRICT_BF16") == "1" {
		fl = append(fl, "--xla_allow_excess_precision=false")
	}
	return fl
}

func setXLAFlags() {
	flags := os.Getenv("XLA_FLAGS")
	for _, fl := range defaultXLAFlags() {
		name := fl[:strings.Index(fl, "=")]
		if !strings.Contains(flags, name+"=") {
			flags = strings.TrimSpace(flags + " " + fl)
		}
	}
	os.Setenv("XLA_FLAGS", flags)
}

// Name is "gpu".
func (*Backend) Name() string { return "gpu" }

// Traits: products sharing an input are best concatenated. XLA has no error path out of a kernel
// (out-of-range gather indices are clamped, scattered updates out of range dropped) and the GPU's
// scatter-add uses atomics.
func (*Backend) Traits() prim.Traits { return prim.Traits{SharedInputProducts: true} }

// Describe names the plugin and the platform, for logs.
func (b *Backend) Describe() string {
	return fmt.Sprintf("%s; platform %s %s", b.plugin, b.client.Platform(), b.client.PlatformVersion())
}

// CompileStats reports how many programs were compiled and the total time spent compiling.
func (b *Backend) CompileStats() (n int, total time.Duration) {
	return int(b.compiles.Load()), time.Duration(b.compileTime.Load())
}

func xlaDType(dt prim.DType) dtypes.DType {
	switch dt {
	case prim.Bool:
		return dtypes.Bool
	case prim.Uint8:
		return dtypes.Uint8
	case prim.Uint32:
		return dtypes.Uint32
	case prim.Int32:
		return dtypes.Int32
	case prim.Int64:
		return dtypes.Int64
	case prim.Float16:
		return dtypes.Float16
	case prim.BFloat16:
		return dtypes.BFloat16
	case prim.Float32:
		return dtypes.Float32
	case prim.Float64:
		return dtypes.Float64
	}
	panic(fmt.Sprintf("xla: no PJRT type for %v", dt))
}

// hostBytes views a host slice as bytes (never empty, so the pointer is valid).
func hostBytes(data any, n int, dt prim.DType) []byte {
	size := n * dt.Size()
	if size == 0 {
		return make([]byte, 0, 1)
	}
	var p unsafe.Pointer
	switch d := data.(type) {
	case []float32:
		p = unsafe.Pointer(unsafe.SliceData(d))
	case []float64:
		p = unsafe.Pointer(unsafe.SliceData(d))
	case []uint16:
		p = unsafe.Pointer(unsafe.SliceData(d))
	case []int32:
		p = unsafe.Pointer(unsafe.SliceData(d))
	case []int64:
		p = unsafe.Pointer(unsafe.SliceData(d))
	case []uint8:
		p = unsafe.Pointer(unsafe.SliceData(d))
	case []uint32:
		p = unsafe.Pointer(unsafe.SliceData(d))
	case []bool:
		p = unsafe.Pointer(unsafe.SliceData(d))
	default:
		panic(fmt.Sprintf("xla: unsupported host slice %T", data))
	}
	return unsafe.Slice((*byte)(p), size)
}

// hostSlice allocates a host slice of n elements of dt.
func hostSlice(dt prim.DType, n int) any {
	switch dt {
	case prim.Bool:
		return make([]bool, n)
	case prim.Uint8:
		return make([]uint8, n)
	case prim.Uint32:
		return make([]uint32, n)
	case prim.Int32:
		return make([]int32, n)
	case prim.Int64:
		return make([]int64, n)
	case prim.Float16, prim.BFloat16:
		return make([]uint16, n)
	case prim.Float32:
		return make([]float32, n)
	case prim.Float64:
		return make([]float64, n)
	}
	panic(fmt.Sprintf("xla: no host slice for %v", dt))
}

func (b *Backend) track(bytes int) {
	if b.allocated.Add(int64(bytes)) > b.gcEvery {
		b.allocated.Store(0)
		runtime.GC()
	}
}

// FromHost copies a host slice to the device.
func (b *Backend) FromHost(dtype prim.DType, shape []int, data any) prim.Buffer {
	n := prim.ShapeSize(shape)
	raw := hostBytes(data, n, dtype)
	if len(raw) != n*dtype.Size() {
		panic(fmt.Sprintf("xla.FromHost: %T of the wrong length for %s%v", data, dtype, shape))
	}
	dims := append([]int{}, shape...)
	buf, err := b.client.BufferFromHost().FromRawData(raw, xlaDType(dtype), dims).Done()
	runtime.KeepAlive(data)
	if err != nil {
		panic(fmt.Sprintf("xla.FromHost %s%v: %v", dtype, shape, err))
	}
	b.track(len(raw))
	return &Buffer{b: buf, bytes: len(raw)}
}

// ToHost copies a device buffer back to a new host slice.
func (b *Backend) ToHost(buf prim.Buffer, dtype prim.DType, shape []int) any {
	n := prim.ShapeSize(shape)
	out := hostSlice(dtype, n)
	if n == 0 {
		return out
	}
	if err := buf.(*Buffer).b.ToHost(hostBytes(out, n, dtype)); err != nil {
		panic(fmt.Sprintf("xla.ToHost %s%v: %v", dtype, shape, err))
	}
	return out
}

type executable struct {
	b       *Backend
	exe     *pjrt.LoadedExecutable
	nInputs int
	outType []tensorType
	donated []int // the inputs of Program.Donated aliased with an output
}

// Compile lowers p to StableHLO and compiles it with XLA, or returns the cached executable of a
// Program with the same structure.
func (b *Backend) Compile(p *prim.Program) (prim.Executable, error) {
	key := p.Key()
	b.mu.Lock()
	e := b.cache[key]
	b.mu.Unlock()
	if e != nil {
		return e, nil
	}
	text, err := Lower(p, b.opts)
	if err != nil {
		return nil, err
	}
	if dir := os.Getenv("LMXLAB_XLA_DUMP"); dir != "" {
		name := fmt.Sprintf("%s/module_%03d.mlir", dir, b.compiles.Load())
		_ = os.WriteFile(name, []byte(text), 0o644)
	}
	t0 := time.Now()
	exe, err := b.client.Compile().WithStableHLO([]byte(text)).Done()
	b.compileTime.Add(int64(time.Since(t0)))
	b.compiles.Add(1)
	if err != nil {
		return nil, fmt.Errorf("xla: compiling a program of %d nodes: %w", len(p.Nodes), err)
	}
	e = &executable{b: b, exe: exe, nInputs: p.NumInputs}
	aliases := outputAliases(p)   // Lower checked the program: no failure here
	for _, i := range p.Donated { // those the module aliases with an output
		if _, ok := aliases[i]; ok {
			e.donated = append(e.donated, i)
		}
	}
	for _, o := range p.Outputs {
		n := p.Nodes[o]
		e.outType = append(e.outType, tt(n.DType, n.Shape...))
	}
	if exe.NumOutputs != len(e.outType) {
		return nil, fmt.Errorf("xla: compiled program has %d outputs, want %d", exe.NumOutputs, len(e.outType))
	}
	b.mu.Lock()
	b.cache[key] = e
	b.mu.Unlock()
	return e, nil
}

// Run executes on the device; the outputs stay there.
func (e *executable) Run(inputs []prim.Buffer) ([]prim.Buffer, error) {
	if len(inputs) != e.nInputs {
		return nil, fmt.Errorf("xla: program takes %d inputs, got %d", e.nInputs, len(inputs))
	}
	in := make([]*pjrt.Buffer, len(inputs))
	for i, x := range inputs {
		xb, ok := x.(*Buffer)
		if !ok {
			return nil, fmt.Errorf("xla: input %d is a %T, not a gpu buffer", i, x)
		}
		in[i] = xb.b
	}
	// A donated input whose buffer is also passed elsewhere (two arrays sharing one buffer) is
	// not donated: XLA copies it instead of writing into it.
	// (SetDonate: go-xla's Donate(indices...) searches lists, quadratic in the buffer count.)
	donate := make([]bool, len(in))
	freed := 0
	if len(e.donated) > 0 {
		uses := make(map[*pjrt.Buffer]int, len(in))
		for _, x := range in {
			uses[x]++
		}
		for _, i := range e.donated {
			if uses[in[i]] == 1 {
				donate[i] = true
				freed += inputs[i].Bytes()
			}
		}
	}
	outs, err := e.exe.Execute(in...).SetDonate(donate).Done()
	runtime.KeepAlive(inputs)
	if err != nil {
		return nil, fmt.Errorf("xla: executing: %w", err)
	}
	res := make([]prim.Buffer, len(outs))
	total := -freed
	for i, o := range outs {
		nb := e.outType[i].size() * e.outType[i].dt.Size()
		res[i] = &Buffer{b: o, bytes: nb}
		total += nb
	}
	e.b.track(total)
	return res, nil
}

func open() (prim.Backend, error) { return Open() }
