package cpu

import (
	"slices"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// Elementwise fusion. Compile groups float32 elementwise nodes (Unary, Binary, Where and
// AsType between float32 and bool) of one output shape into fusedGroups. A group runs as one
// kernel: it walks the shape in blocks of a few hundred elements, evaluates its small expression
// graph one op at a time over each block in scratch buffers that stay in the L1 cache, and
// writes only the values that someone outside the group reads. The intermediate values are
// never allocated, and each input is read once per block instead of once per op.
//
// Grouping runs over the nodes from last to first. A node joins the group of its readers when
// all of them belong to one group of its shape; otherwise it starts a group of its own. A value
// read outside its group is therefore the group's root (its last node) or a program output, so
// a group never depends on its own results through an outside node, and running the whole
// group at the position of its root keeps the program's order valid.
//
// Results are bitwise the same as the unfused kernels': a fused op runs the same float32 loop
// (unaryF32, binaryF32VV and friends) over a block as the unfused kernel runs over the array.

// fusedOpCode says how a fused op computes.
type fusedOpCode uint8

const (
	fuseUnary   fusedOpCode = iota // float32 → float32
	fuseBinary                     // float32, float32 → float32
	fuseCompare                    // float32, float32 → bool
	fuseWhere                      // bool, float32, float32 → float32
	fuseToF32                      // bool → float32 (AsType)
	fuseToBool                     // float32 → bool (AsType)
	fuseNot                        // bool → bool (LogicalNot)
)

// fusedOp is one node of a group. Values are numbered: the group's inputs first, then the ops.
type fusedOp struct {
	code   fusedOpCode
	unary  prim.UnaryKind
	binary prim.BinaryKind
	args   [3]int32 // value numbers; unused entries are -1
	slot   int32    // scratch slot of a value only the group reads; -1 for outputs
	out    int32    // index among the group's outputs, or -1
}

// fusedGroup is a compiled group of elementwise nodes.
type fusedGroup struct {
	shape   []int
	size    int
	nodes   []int // the member nodes, ascending; the last is the root
	inputs  []int // outside nodes read by the group, in order of first use
	inBool  []bool
	outputs []int // member nodes whose values leave the group, ascending
	outBool []bool
	ops     []fusedOp
	it      *rowIter // over shape, with the inputs' broadcast strides
	block   int      // elements per block
	slotsF  int      // float32 scratch slots
	slotsB  int      // bool scratch slots
	tempsF  int      // float32 slots, after the scratch ones, for Where's broadcast scalars (2 or 0)
	tempsB  int      // bool slots for the same (1 or 0)
	cost    int      // rough per-element cost, for parallelFor
}

// fusable reports whether node n can be computed inside a fused group, and whether its value is
// bool (else float32).
func fusable(p *prim.Program, n *prim.Node) (ok, isBool bool) {
	dt := func(i int) prim.DType { return p.Nodes[n.Inputs[i]].DType }
	switch op := n.Op.(type) {
	case prim.Unary:
		if op.Kind == prim.LogicalNot {
			return n.DType == prim.Bool && dt(0) == prim.Bool, true
		}
		return n.DType == prim.Float32 && dt(0) == prim.Float32 && floatFn(op.Kind) != nil, false
	case prim.Binary:
		if dt(0) != prim.Float32 || dt(1) != prim.Float32 {
			return false, false
		}
		if op.Kind.IsComparison() {
			return n.DType == prim.Bool, true
		}
		return n.DType == prim.Float32 && op.Kind <= prim.Atan2, false
	case prim.Where:
		return n.DType == prim.Float32 && dt(0) == prim.Bool && dt(1) == prim.Float32 && dt(2) == prim.Float32, false
	case prim.AsType:
		switch {
		case n.DType == prim.Float32 && dt(0) == prim.Bool:
			return true, false
		case n.DType == prim.Bool && dt(0) == prim.Float32:
			return true, true
		}
	}
	return false, false
}

// fuseProgram finds the groups of p. group[i] is the group computed at node i (its root), and
// inGroup[i] reports that node i is computed by some group.
func fuseProgram(p *prim.Program) (group []*fusedGroup, inGroup []bool) {
	nn := len(p.Nodes)
	readers := make([][]int, nn)
	for i, n := range p.Nodes {
		for _, j := range n.Inputs {
			if len(readers[j]) == 0 || readers[j][len(readers[j])-1] != i {
				readers[j] = append(readers[j], i)
			}
		}
	}
	isOutput := make([]bool, nn)
	for _, o := range p.Outputs {
		isOutput[o] = true
	}
	gid := make([]int, nn) // root of the node's group, or -1
	isBool := make([]bool, nn)
	for i := nn - 1; i >= 0; i-- {
		gid[i] = -1
		n := &p.Nodes[i]
		ok, b := fusable(p, n)
		if !ok {
			continue
		}
		isBool[i] = b
		gid[i] = i
		if rs := readers[i]; len(rs) > 0 {
			g := gid[rs[0]]
			for _, r := range rs[1:] {
				if gid[r] != g {
					g = -1
				}
			}
			if g >= 0 && slices.Equal(p.Nodes[g].Shape, n.Shape) {
				gid[i] = g
			}
		}
	}
	members := make([][]int, nn) // by root
	for i := range nn {
		if gid[i] >= 0 {
			members[gid[i]] = append(members[gid[i]], i)
		}
	}
	group = make([]*fusedGroup, nn)
	inGroup = make([]bool, nn)
	value, stamp := make([]int32, nn), make([]int, nn) // scratch for buildGroup
	for root, ms := range members {
		if len(ms) == 0 {
			continue
		}
		g := buildGroup(p, ms, isBool, isOutput, readers, gid, value, stamp)
		if g == nil {
			continue
		}
		group[root] = g
		for _, m := range ms {
			inGroup[m] = true
		}
	}
	return group, inGroup
}

// Block sizes: the scratch of one block should stay in the L1 cache.
const (
	fuseScratchBytes = 16 << 10
	fuseMinBlock     = 256
	fuseMaxBlock     = 4096
)

// buildGroup compiles the members (ascending, all of one shape) into a fusedGroup, or returns
// nil when the shape walks in rows too short to be worth it.
// value and stamp are scratch of one entry per node: value[j] is node j's value number in the
// group when stamp[j] is the group's root + 1.
func buildGroup(p *prim.Program, ms []int, isBool, isOutput []bool, readers [][]int, gid []int, value []int32, stamp []int) *fusedGroup {
	root := ms[len(ms)-1]
	shape := p.Nodes[root].Shape
	g := &fusedGroup{shape: shape, size: prim.ShapeSize(shape), nodes: ms}
	for _, m := range ms {
		for _, j := range p.Nodes[m].Inputs {
			if gid[j] == root {
				continue
			}
			if stamp[j] != root+1 {
				stamp[j] = root + 1
				value[j] = int32(len(g.inputs))
				g.inputs = append(g.inputs, j)
				g.inBool = append(g.inBool, p.Nodes[j].DType == prim.Bool)
			}
		}
	}
	strides := make([][]int, len(g.inputs))
	for k, j := range g.inputs {
		strides[k] = prim.BroadcastStrides(p.Nodes[j].Shape, shape)
	}
	g.it = newRowIter(shape, strides...)
	if g.size > 0 && g.it.n < 8 && g.it.rows() > 16 {
		return nil
	}
	for _, s := range g.it.inner {
		// A contiguous input broadcast to the shape is read along the row with stride 1, or 0
		// where it is broadcast; anything else is left to the unfused kernels.
		if s != 0 && s != 1 {
			return nil
		}
	}
	nIn := int32(len(g.inputs))
	for k, m := range ms {
		value[m] = nIn + int32(k)
	}
	// Last use of each value inside the group, for scratch slot reuse.
	last := make([]int, int(nIn)+len(ms))
	for k, m := range ms {
		for _, j := range p.Nodes[m].Inputs {
			last[value[j]] = k
		}
	}
	var freeF, freeB []int32
	take := func(b bool) int32 {
		free, count := &freeF, &g.slotsF
		if b {
			free, count = &freeB, &g.slotsB
		}
		if len(*free) > 0 {
			s := (*free)[len(*free)-1]
			*free = (*free)[:len(*free)-1]
			return s
		}
		*count++
		return int32(*count - 1)
	}
	slotOf := make([]int32, int(nIn)+len(ms))
	for k, m := range ms {
		n := &p.Nodes[m]
		op := fusedOp{args: [3]int32{-1, -1, -1}, slot: -1, out: -1}
		for a, j := range n.Inputs {
			op.args[a] = value[j]
		}
		switch o := n.Op.(type) {
		case prim.Unary:
			op.code, op.unary = fuseUnary, o.Kind
			if o.Kind == prim.LogicalNot {
				op.code = fuseNot
			}
			g.cost += unaryCost(o.Kind)
		case prim.Binary:
			op.code, op.binary = fuseBinary, o.Kind
			if o.Kind.IsComparison() {
				op.code = fuseCompare
			}
			g.cost += 1
			if o.Kind > prim.Div {
				g.cost += 8
			}
		case prim.Where:
			op.code = fuseWhere
			g.tempsF, g.tempsB = 2, 1
			g.cost++
		case prim.AsType:
			op.code = fuseToF32
			if isBool[m] {
				op.code = fuseToBool
			}
			g.cost++
		}
		// Arguments whose last use is this op give their slots back first: every fused loop
		// reads element i before writing element i, so an op may overwrite its own argument.
		for _, a := range op.args[:len(n.Inputs)] {
			if a >= nIn && last[a] == k && slotOf[a] >= 0 {
				if isBool[ms[a-nIn]] {
					freeB = append(freeB, slotOf[a])
				} else {
					freeF = append(freeF, slotOf[a])
				}
				slotOf[a] = -1
			}
		}
		if m == root || isOutput[m] || hasOutsideReader(readers[m], gid, root) {
			op.out = int32(len(g.outputs))
			g.outputs = append(g.outputs, m)
			g.outBool = append(g.outBool, isBool[m])
			slotOf[nIn+int32(k)] = -1
		} else {
			op.slot = take(isBool[m])
			slotOf[nIn+int32(k)] = op.slot
		}
		g.ops = append(g.ops, op)
	}
	// Block length: the scratch should fit in fuseScratchBytes; no longer than a row needs.
	per := 4*(g.slotsF+g.tempsF) + g.slotsB + g.tempsB
	g.block = min(max(fuseScratchBytes/max(per, 1)/64*64, fuseMinBlock), fuseMaxBlock, (g.it.n+63)/64*64)
	g.block = max(g.block, 1)
	g.cost = max(g.cost, 1)
	return g
}

// hasOutsideReader reports whether a reader of a node belongs to no group or another group.
func hasOutsideReader(rs []int, gid []int, root int) bool {
	for _, r := range rs {
		if gid[r] != root {
			return true
		}
	}
	return false
}
