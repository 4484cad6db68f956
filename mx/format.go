package mx

import (
	"fmt"
	"strconv"
	"strings"
)

// formatArray prints like NumPy: nested brackets, elided in the middle past 1000 elements.
func formatArray(a *Array) string {
	var b strings.Builder
	b.WriteString("array(")
	if a.buf == nil && isPlaceholder(a) {
		fmt.Fprintf(&b, "<traced %v>, dtype=%s)", a.shape, a.dtype)
		return b.String()
	}
	vals := a.Float64s()
	cells := make([]string, len(vals))
	width := 0
	for i, v := range vals {
		cells[i] = formatValue(v, a.dtype)
		width = max(width, len(cells[i]))
	}
	elide := len(vals) > 1000
	var rec func(dim, off, stride int, indent string)
	rec = func(dim, off, stride int, indent string) {
		if dim == len(a.shape) {
			fmt.Fprintf(&b, "%*s", width, cells[off])
			return
		}
		n := a.shape[dim]
		inner := stride / max(n, 1)
		b.WriteByte('[')
		for i := 0; i < n; i++ {
			if elide && n > 6 && i == 3 {
				b.WriteString("...")
				i = n - 4
				if dim == len(a.shape)-1 {
					b.WriteString(", ")
				} else {
					b.WriteString(",\n" + indent + " ")
				}
				continue
			}
			if i > 0 {
				if dim == len(a.shape)-1 {
					b.WriteString(", ")
				} else {
					b.WriteString(",\n" + strings.Repeat("\n", len(a.shape)-dim-2) + indent + " ")
				}
			}
			rec(dim+1, off+i*inner, inner, indent+" ")
		}
		b.WriteByte(']')
	}
	rec(0, 0, a.Size(), "      ")
	fmt.Fprintf(&b, ", dtype=%s)", a.dtype)
	return b.String()
}

func formatValue(v float64, dt DType) string {
	switch {
	case dt == Bool:
		if v != 0 {
			return "true"
		}
		return "false"
	case !dt.IsFloat():
		return strconv.FormatInt(int64(v), 10)
	}
	prec := 4
	if dt == Float64 {
		prec = 8
	}
	return strconv.FormatFloat(v, 'g', prec, 64)
}
