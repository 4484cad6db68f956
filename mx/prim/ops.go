package prim

import "fmt"

// Op is a primitive operation: a struct of parameters. Backends switch on the concrete type.
// Every Op has exactly one output, whose shape and dtype are on the Node.
type Op interface {
	Name() string
}

// Input is a value supplied at run time: Program input number Index.
type Input struct{ Index int }

// Full fills the output with Value.
type Full struct{ Value float64 }

// Arange fills a 1-D output with Start, Start+Step, ...
type Arange struct{ Start, Step float64 }

// Identity passes its input through. Backends may share the buffer.
type Identity struct{}

// StopGradient is Identity for the forward pass; mx gives it a zero VJP.
type StopGradient struct{}

// Reshape reinterprets its contiguous input with the Node's shape.
type Reshape struct{}

// AsType converts its input to the Node's dtype (floats round to nearest even; float to integer
// truncates toward zero; anything to bool is x != 0).
type AsType struct{}

// UnaryKind names an elementwise function of one input.
type UnaryKind uint8

// The unary kinds.
const (
	Neg UnaryKind = iota
	Abs
	Sign
	Exp
	Log
	Log1p
	Expm1
	Sqrt
	Rsqrt
	Square
	Sin
	Cos
	Tanh
	Sigmoid
	Erf
	Floor
	Ceil
	Round // to nearest even
	Reciprocal
	SiLU
	GELU     // exact, with erf
	GELUTanh // tanh approximation
	Softplus
	ReLU
	LogicalNot
	BitwiseNot
	ErfInv
	// Derivatives, for the VJPs of the activations: the value of f'(x) for f named by the prefix.
	SiLUGrad     // σ(x)·(1 + x·(1-σ(x)))
	GELUGrad     // Φ(x) + x·φ(x), with the normal CDF Φ and density φ
	GELUTanhGrad // derivative of GELUTanh
	numUnary
)

var unaryNames = [...]string{"Neg", "Abs", "Sign", "Exp", "Log", "Log1p", "Expm1", "Sqrt", "Rsqrt",
	"Square", "Sin", "Cos", "Tanh", "Sigmoid", "Erf", "Floor", "Ceil", "Round", "Reciprocal", "SiLU",
	"GELU", "GELUTanh", "Softplus", "ReLU", "LogicalNot", "BitwiseNot", "ErfInv",
	"SiLUGrad", "GELUGrad", "GELUTanhGrad"}

func (k UnaryKind) String() string {
	if k < numUnary {
		return unaryNames[k]
	}
	return fmt.Sprintf("unary(%d)", k)
}

// Unary applies an elementwise function.
type Unary struct{ Kind UnaryKind }

// BinaryKind names an elementwise function of two inputs.
type BinaryKind uint8

// The binary kinds. Comparisons produce bool outputs.
const (
	Add BinaryKind = iota
	Sub
	Mul
	Div
	Pow
	Maximum
	Minimum
	Remainder // sign of the divisor, like Python and NumPy
	Atan2
	Equal
	NotEqual
	Less
	LessEqual
	Greater
	GreaterEqual
	LogicalAnd
	LogicalOr
	BitwiseAnd
	BitwiseOr
	BitwiseXor
	ShiftLeft
	ShiftRight
	numBinary
)

var binaryNames = [...]string{"Add", "Sub", "Mul", "Div", "Pow", "Maximum", "Minimum", "Remainder",
	"Atan2", "Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual", "LogicalAnd",
	"LogicalOr", "BitwiseAnd", "BitwiseOr", "BitwiseXor", "ShiftLeft", "ShiftRight"}

func (k BinaryKind) String() string {
	if k < numBinary {
		return binaryNames[k]
	}
	return fmt.Sprintf("binary(%d)", k)
}

// IsComparison reports whether the kind yields bool.
func (k BinaryKind) IsComparison() bool { return k >= Equal && k <= LogicalOr }

// Binary applies an elementwise function to two inputs broadcast to the Node's shape.
type Binary struct{ Kind BinaryKind }

// Where selects x where cond is true, else y; all three broadcast to the Node's shape.
type Where struct{}

// Broadcast broadcasts its input (NumPy rules) to the Node's shape.
type Broadcast struct{}

// ReduceKind names a reduction.
type ReduceKind uint8

// The reductions.
const (
	ReduceSum ReduceKind = iota
	ReduceProd
	ReduceMax
	ReduceMin
	ReduceAny
	ReduceAll
)

// Reduce reduces over Axes (sorted, non-negative); the output keeps them as size-1 dimensions.
type Reduce struct {
	Kind ReduceKind
	Axes []int
}

// ArgReduce finds the index of the max (or min) along Axis, first on ties; keeps the axis as size 1.
// The output dtype is int32 or int64.
type ArgReduce struct {
	Min  bool
	Axis int
}

// Softmax is softmax along the last axis; Log selects log-softmax.
type Softmax struct{ Log bool }

// Scan is a cumulative reduction (ReduceSum, ReduceProd, ReduceMax or ReduceMin) along Axis.
// Exclusive starts from the identity (0, 1, -inf, +inf); Reverse runs from the end.
type Scan struct {
	Kind      ReduceKind
	Axis      int
	Reverse   bool
	Exclusive bool
}

// Matmul multiplies (..., M, K) by (..., K, N), broadcasting the batch dimensions. TransA and TransB
// say that the stored operands are (..., K, M) and (..., N, K).
type Matmul struct{ TransA, TransB bool }

// Transpose permutes the axes: output axis i is input axis Perm[i].
type Transpose struct{ Perm []int }

// Slice takes Start[i], Start[i]+Step[i], ... (Node shape says how many) along every axis.
// Steps may be negative.
type Slice struct{ Start, Step []int }

// SliceUpdate copies its second input into the strided window of its first input.
type SliceUpdate struct{ Start, Step []int }

// Concatenate joins its inputs along Axis.
type Concatenate struct{ Axis int }

// Pad pads with Value: Low[i] before and High[i] after along every axis.
type Pad struct {
	Low, High []int
	Value     float64
}

// Take gathers along Axis with integer indices (input 1, any shape; negative indices wrap):
// output shape is x[:axis] + indices + x[axis+1:].
type Take struct{ Axis int }

// TakeAlongAxis gathers along Axis with indices broadcast against the input except along Axis.
type TakeAlongAxis struct{ Axis int }

// PutAlongAxis writes (or adds, with Add) values (input 2) at indices (input 1) along Axis of a copy
// of input 0. Indices and values broadcast to the shape of input 0 except along Axis.
type PutAlongAxis struct {
	Axis int
	Add  bool
}

// IndexAdd adds rows of updates (input 2) into a copy of input 0 at the 1-D indices (input 1)
// along Axis: out[..., idx[j], ...] += upd[..., j, ...]. It is the transpose of Take.
type IndexAdd struct{ Axis int }

// Sort sorts along the last axis (stable, NaNs last). ArgSort gives the permutation.
type Sort struct{}

// ArgSort gives the stable sorting permutation along the last axis.
type ArgSort struct{}

// Conv1d convolves input (N, L, Cin) with weight (Cout, K, Cin/Groups), channels last.
type Conv1d struct{ Stride, Padding, Dilation, Groups int }

// Conv1dGradInput gives the gradient of Conv1d with respect to its input: inputs are the output
// cotangent (N, Lout, Cout) and the weight; the Node shape is the input's.
type Conv1dGradInput struct{ Stride, Padding, Dilation, Groups int }

// Conv1dGradWeight gives the gradient of Conv1d with respect to its weight: inputs are the
// convolution input and the output cotangent.
type Conv1dGradWeight struct{ Stride, Padding, Dilation, Groups int }

// RandomBits draws uint32 words from a Threefry-2x32 counter stream keyed by its input
// (a uint32 array of shape [2]).
type RandomBits struct{}

// Name methods.

func (Input) Name() string            { return "Input" }
func (Full) Name() string             { return "Full" }
func (Arange) Name() string           { return "Arange" }
func (Identity) Name() string         { return "Identity" }
func (StopGradient) Name() string     { return "StopGradient" }
func (Reshape) Name() string          { return "Reshape" }
func (AsType) Name() string           { return "AsType" }
func (o Unary) Name() string          { return o.Kind.String() }
func (o Binary) Name() string         { return o.Kind.String() }
func (Where) Name() string            { return "Where" }
func (Broadcast) Name() string        { return "Broadcast" }
func (Reduce) Name() string           { return "Reduce" }
func (ArgReduce) Name() string        { return "ArgReduce" }
func (Softmax) Name() string          { return "Softmax" }
func (Scan) Name() string             { return "Scan" }
func (Matmul) Name() string           { return "Matmul" }
func (Transpose) Name() string        { return "Transpose" }
func (Slice) Name() string            { return "Slice" }
func (SliceUpdate) Name() string      { return "SliceUpdate" }
func (Concatenate) Name() string      { return "Concatenate" }
func (Pad) Name() string              { return "Pad" }
func (Take) Name() string             { return "Take" }
func (TakeAlongAxis) Name() string    { return "TakeAlongAxis" }
func (PutAlongAxis) Name() string     { return "PutAlongAxis" }
func (IndexAdd) Name() string         { return "IndexAdd" }
func (Sort) Name() string             { return "Sort" }
func (ArgSort) Name() string          { return "ArgSort" }
func (Conv1d) Name() string           { return "Conv1d" }
func (Conv1dGradInput) Name() string  { return "Conv1dGradInput" }
func (Conv1dGradWeight) Name() string { return "Conv1dGradWeight" }
func (RandomBits) Name() string       { return "RandomBits" }

// DynamicSlice takes the window of shape Sizes whose first element is at the run-time start
// indices (input 1, an integer vector with one entry per axis). As in XLA, each start is clamped
// to [0, dim - size] so the window always fits.
type DynamicSlice struct{ Sizes []int }

// DynamicUpdateSlice copies its second input into its first at the run-time start indices
// (input 2, an integer vector with one entry per axis), clamped like DynamicSlice's.
type DynamicUpdateSlice struct{}

func (DynamicSlice) Name() string       { return "DynamicSlice" }
func (DynamicUpdateSlice) Name() string { return "DynamicUpdateSlice" }
