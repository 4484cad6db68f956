package mx

import (
	"fmt"

	"github.com/lmxlab/lmxlab/mx/prim"
)

// simplify rewrites a traced program in place: common subexpressions are merged (two nodes with
// the same op, parameters, inputs, shape and dtype compute the same value, since every primitive
// is a pure function), and nodes that no output needs are dropped. Input nodes always stay, so
// the program's calling convention does not change.
func simplify(p *prim.Program) {
	remap := make([]int, len(p.Nodes))
	seen := map[string]int{}
	var nodes []prim.Node
	for i, n := range p.Nodes {
		ins := make([]int, len(n.Inputs))
		for j, in := range n.Inputs {
			ins[j] = remap[in]
		}
		n.Inputs = ins
		key := fmt.Sprintf("%T%+v|%v|%v|%v", n.Op, n.Op, ins, n.Shape, n.DType)
		if k, ok := seen[key]; ok {
			remap[i] = k
			continue
		}
		nodes = append(nodes, n)
		remap[i] = len(nodes) - 1
		seen[key] = remap[i]
	}
	outs := make([]int, len(p.Outputs))
	for i, o := range p.Outputs {
		outs[i] = remap[o]
	}
	// Dead-code elimination, walking backwards from the outputs.
	live := make([]bool, len(nodes))
	for _, o := range outs {
		live[o] = true
	}
	for i := len(nodes) - 1; i >= 0; i-- {
		if _, isInput := nodes[i].Op.(prim.Input); isInput {
			live[i] = true
		}
		if live[i] {
			for _, in := range nodes[i].Inputs {
				live[in] = true
			}
		}
	}
	final := make([]int, len(nodes))
	var kept []prim.Node
	for i, n := range nodes {
		if !live[i] {
			continue
		}
		for j, in := range n.Inputs {
			n.Inputs[j] = final[in]
		}
		kept = append(kept, n)
		final[i] = len(kept) - 1
	}
	for i, o := range outs {
		outs[i] = final[o]
	}
	p.Nodes, p.Outputs = kept, outs
}
