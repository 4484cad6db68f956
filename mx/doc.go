// Package mx is lmxlab's array framework, designed after MLX: immutable, lazily computed n-d
// arrays; explicit evaluation; function transforms (VJP, ValueAndGrad, Compile); counter-based
// random numbers; and backends that only implement primitives.
//
// Data flow. An op such as Add or Matmul checks its arguments, infers the result's shape and
// dtype, and returns an *Array that holds only a recipe: a primitive (package prim) and its input
// arrays. Nothing is computed until Eval, or a reader such as Float32s or Item, asks for a value.
// Eval collects the pending recipes under its arguments into a prim.Program, hands it to the
// device's backend (mx/cpu by default; mx/xla for GPUs), stores the resulting buffers in the
// arrays it was asked for, and drops their recipes so the graph behind them can be freed.
//
// Transforms work on the graph, never on values: VJP calls a function on fresh tracer arrays,
// then walks the recipes it built in reverse and asks each primitive's VJP rule for the
// cotangents of its inputs — which are again lazy arrays. Compile calls a function once per input
// signature on placeholder arrays, keeps the resulting Program, and replays it through the
// backend's Executable. A compiled function must be pure: state such as parameters and optimizer
// moments goes in as arguments and comes out as results; arrays it merely captures are frozen
// into the program as constants.
//
// Shape errors are programming errors and panic with the op's name and the shapes involved;
// functions that touch files or user input return errors.
package mx
