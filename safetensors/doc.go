// Package safetensors reads and writes the Hugging Face safetensors format,
// the file format of model.safetensors checkpoints.
//
// # The format
//
// A safetensors file has three parts:
//
//	[8 bytes]  N, the length of the header, as a little-endian uint64
//	[N bytes]  the header: a JSON object, padded with trailing spaces
//	[rest]     the data buffer
//
// The header maps each tensor name to its element type, its shape and the
// byte range of its data within the buffer:
//
//	{"__metadata__": {"format": "pt"},
//	 "wte.weight": {"dtype": "F32", "shape": [256, 64], "data_offsets": [0, 65536]}}
//
// Offsets are relative to the start of the buffer, which begins right after
// the header. The optional "__metadata__" entry maps strings to strings.
// Tensor data are stored little-endian, in row-major (C) order. The dtypes
// are BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32,
// F64, I64 and U64.
//
// # Reading
//
// [Open] reads and checks the header and leaves the data on disk: each
// [File.Tensor] call reads one tensor with ReadAt, so a multi-gigabyte
// checkpoint can be loaded one tensor at a time. [ReadFile], [Read] and
// [Parse] hold the whole file in memory. The typed accessors on [Tensor]
// ([Tensor.Float32s], [Tensor.Int64s], ...) decode the little-endian bytes,
// widening F16, BF16 and FP8 to float32.
//
// Before it returns a [File], a reader checks the whole header, so that a
// later [File.Tensor] can never read out of bounds:
//
//   - the file holds at least the 8-byte length, and the header length is no
//     more than [MaxHeaderSize] and no more than the bytes that follow it;
//   - the header is UTF-8 JSON: one object, followed by nothing but
//     whitespace (the padding), with no name appearing twice;
//   - every entry has a known dtype, a shape of non-negative integers whose
//     byte size does not overflow, and data_offsets [begin, end] with
//     begin <= end <= the buffer length and end-begin equal to the byte
//     size of the shape;
//   - the tensors' byte ranges, taken together, cover the buffer exactly:
//     no two overlap, none leaves a gap, and no bytes trail the last one.
//
// Every failure is an [*Error] naming the file, the tensor where there is
// one, and what is wrong. Readers never panic on malformed input; a fuzz
// test (FuzzRead) holds them to that.
//
// # Writing
//
// [Write] and [WriteFile] check every tensor (known dtype, non-negative
// shape, data length equal to the shape's byte size, unique names,
// "__metadata__" reserved) before writing a byte. They write the tensors in
// the order of the reference implementation: by decreasing dtype alignment,
// then by name. That order makes the output deterministic and keeps every
// tensor's data aligned to its element size, since the header is padded
// with spaces to a multiple of 8 bytes. Metadata keys are written sorted
// (the reference leaves their order to a hash map). With that, the output
// is byte-for-byte what the Python safetensors library writes: rewriting
// every checkpoint in fixtures/hf reproduces it exactly.
//
// [WriteFile] is atomic: it writes a temporary file in the destination's
// directory, syncs it, and renames it over the destination, so a crash or
// an error leaves either the old file or the new one, never a torn one, and
// no temporary file is left behind.
package safetensors
