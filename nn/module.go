// Package nn holds lmxlab's neural-network building blocks: parameter trees discovered by
// reflection, and the basic layers (Linear, Embedding, norms, Dropout) every model is made of.
//
// A module is any Go struct. Its parameters are its exported *mx.Array fields, found in field
// order together with those of nested modules (struct fields, pointers, interfaces holding
// modules, and slices of modules). Each parameter has a dotted snake_case name such as
// "blocks.3.attention.q_proj.weight": a field's name is its `nn:"..."` tag or its Go name in
// snake_case, and slice elements are numbered. Fields tagged `nn:"-"` and unexported fields are
// not parameters; a nil *mx.Array (say, an absent bias) is skipped.
//
// Training code reads parameters with Parameters, computes new values, and writes them back with
// Update; modules stay plain structs with no hidden state. A root module may embed Frozen to let
// Freeze and Unfreeze mark parameters that training must leave alone.
package nn

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/lmxlab/lmxlab/mx"
)

// Param is a named parameter.
type Param struct {
	Name  string
	Value *mx.Array
}

var arrayType = reflect.TypeFor[*mx.Array]()

// walk calls fn for every parameter slot (a settable *mx.Array field) under v.
func walk(v reflect.Value, prefix string, seen map[uintptr]bool, fn func(name string, slot reflect.Value)) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return
		}
		if v.Type() == arrayType {
			return
		}
		if seen[v.Pointer()] {
			return
		}
		seen[v.Pointer()] = true
		walk(v.Elem(), prefix, seen, fn)
	case reflect.Interface:
		if !v.IsNil() {
			walk(v.Elem(), prefix, seen, fn)
		}
	case reflect.Struct:
		for _, f := range structFields(v.Type()) {
			fv := v.Field(f.index)
			if f.embedded {
				walk(fv, prefix, seen, fn)
				continue
			}
			if f.array {
				if !fv.IsNil() {
					fn(prefix+f.name, fv)
				}
				continue
			}
			walk(fv, prefix+f.name+".", seen, fn)
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			e := v.Index(i)
			name := prefix + strconv.Itoa(i)
			if e.Type() == arrayType {
				if !e.IsNil() {
					fn(name, e)
				}
				continue
			}
			walk(e, name+".", seen, fn)
		}
	}
}

// field is what walk needs of a struct field: its index, its parameter-path name, and whether it
// is an embedded struct walked in place or an *mx.Array.
type field struct {
	index           int
	name            string
	embedded, array bool
}

// fieldCache maps a struct type to its walked fields (exported, not tagged nn:"-"), so the
// reflection and snake-casing happen once per type rather than once per walk (a training step
// walks its model several times).
var fieldCache sync.Map

func structFields(t reflect.Type) []field {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.([]field)
	}
	var fs []field
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("nn")
		if !f.IsExported() || tag == "-" {
			continue
		}
		name := tag
		if name == "" {
			name = SnakeCase(f.Name)
		}
		fs = append(fs, field{index: i, name: name, embedded: f.Anonymous && tag == "", array: f.Type == arrayType})
	}
	fieldCache.Store(t, fs)
	return fs
}

// visit walks the parameters of the module m (a pointer to a struct).
func visit(m any, fn func(name string, slot reflect.Value)) {
	v := reflect.ValueOf(m)
	if v.Kind() != reflect.Pointer {
		panic(fmt.Sprintf("nn: module must be a pointer to a struct, got %T", m))
	}
	walk(v, "", map[uintptr]bool{}, fn)
}

// Parameters lists the module's parameters in field order.
func Parameters(m any) []Param {
	var out []Param
	visit(m, func(name string, slot reflect.Value) {
		out = append(out, Param{name, slot.Interface().(*mx.Array)})
	})
	return out
}

// ParameterMap returns the module's parameters by name.
func ParameterMap(m any) map[string]*mx.Array {
	out := map[string]*mx.Array{}
	for _, p := range Parameters(m) {
		out[p.Name] = p.Value
	}
	return out
}

// Names lists parameter names in field order.
func Names(ps []Param) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	return out
}

// Values lists parameter values in order.
func Values(ps []Param) []*mx.Array {
	out := make([]*mx.Array, len(ps))
	for i, p := range ps {
		out[i] = p.Value
	}
	return out
}

// Update replaces parameters by name. Every name must exist in the module, and each new value
// must have the old one's shape (the dtype may change, e.g. to cast a model). Nothing is changed
// if any check fails.
func Update(m any, params map[string]*mx.Array) error {
	slots := map[string]reflect.Value{}
	visit(m, func(name string, slot reflect.Value) { slots[name] = slot })
	var unknown []string
	for name, v := range params {
		slot, ok := slots[name]
		if !ok {
			unknown = append(unknown, name)
			continue
		}
		old := slot.Interface().(*mx.Array)
		if v == nil || !slices.Equal(old.Shape(), v.Shape()) {
			var got any = "nil"
			if v != nil {
				got = v.Shape()
			}
			return fmt.Errorf("nn.Update: parameter %q has shape %v, new value %v", name, old.Shape(), got)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("nn.Update: no parameters named %s", strings.Join(unknown, ", "))
	}
	for name, v := range params {
		slots[name].Set(reflect.ValueOf(v))
	}
	return nil
}

// UpdateList replaces parameters from a list in the order of Parameters (no name lookups: the
// fast path for training steps). It panics if the count differs.
func UpdateList(m any, values []*mx.Array) {
	i := 0
	visit(m, func(name string, slot reflect.Value) {
		if i >= len(values) {
			panic(fmt.Sprintf("nn.UpdateList: only %d values for the module's parameters", len(values)))
		}
		slot.Set(reflect.ValueOf(values[i]))
		i++
	})
	if i != len(values) {
		panic(fmt.Sprintf("nn.UpdateList: %d values for %d parameters", len(values), i))
	}
}

// NumParams counts the elements of all parameters (frozen ones included).
func NumParams(m any) int {
	n := 0
	for _, p := range Parameters(m) {
		n += p.Value.Size()
	}
	return n
}

// SnakeCase turns a Go field name into the checkpoint name: QProj → q_proj, KVDown → kv_down,
// ALog → a_log, Weight → weight.
func SnakeCase(s string) string {
	r := []rune(s)
	var b strings.Builder
	for i, c := range r {
		if unicode.IsUpper(c) && i > 0 {
			prevLower := unicode.IsLower(r[i-1]) || unicode.IsDigit(r[i-1])
			nextLower := i+1 < len(r) && unicode.IsLower(r[i+1])
			if prevLower || (unicode.IsUpper(r[i-1]) && nextLower) {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}

// Frozen, embedded in a root module, records which parameters training must not change.
type Frozen struct {
	frozen map[string]bool
}

func (f *Frozen) frozenSet() *Frozen { return f }

type freezer interface{ frozenSet() *Frozen }

func frozenOf(m any) *Frozen {
	fz, ok := m.(freezer)
	if !ok {
		panic(fmt.Sprintf("nn: %T does not embed nn.Frozen", m))
	}
	return fz.frozenSet()
}

// matches reports whether a parameter name is selected by a pattern: the exact name, a dotted
// prefix ("blocks.0"), or a substring match on whole path components ("attention", "lora_a").
func matches(name, pattern string) bool {
	if name == pattern || strings.HasPrefix(name, pattern+".") {
		return true
	}
	parts := strings.Split(name, ".")
	for i := range parts {
		for j := i + 1; j <= len(parts); j++ {
			if strings.Join(parts[i:j], ".") == pattern {
				return true
			}
		}
	}
	return false
}

// Freeze marks the parameters selected by the patterns (all when none are given) as frozen.
// A pattern selects a parameter by exact name, dotted prefix, or dotted path component
// ("attention" selects every parameter under any attention module).
func Freeze(m any, patterns ...string) {
	fz := frozenOf(m)
	if fz.frozen == nil {
		fz.frozen = map[string]bool{}
	}
	for _, p := range Parameters(m) {
		if len(patterns) == 0 || anyMatch(p.Name, patterns) {
			fz.frozen[p.Name] = true
		}
	}
}

// Unfreeze clears the frozen mark of the selected parameters (all when none are given).
func Unfreeze(m any, patterns ...string) {
	fz := frozenOf(m)
	for _, p := range Parameters(m) {
		if len(patterns) == 0 || anyMatch(p.Name, patterns) {
			delete(fz.frozen, p.Name)
		}
	}
}

func anyMatch(name string, patterns []string) bool {
	for _, pat := range patterns {
		if matches(name, pat) {
			return true
		}
	}
	return false
}

// Trainable lists the parameters that are not frozen, in field order. Modules that do not embed
// Frozen have every parameter trainable.
func Trainable(m any) []Param {
	fz, ok := m.(freezer)
	all := Parameters(m)
	if !ok || fz.frozenSet().frozen == nil {
		return all
	}
	var out []Param
	for _, p := range all {
		if !fz.frozenSet().frozen[p.Name] {
			out = append(out, p)
		}
	}
	return out
}
