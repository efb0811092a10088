package eval

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// table lays out rows of cells: the first column left-aligned, the others
// right-aligned, columns separated by two spaces, every line indented. A
// row's note follows its cells unaligned.
type table struct {
	indent string
	rows   [][]string
	notes  []string
}

func (t *table) add(cells ...string) { t.addNote("", cells...) }

func (t *table) addNote(note string, cells ...string) {
	t.rows = append(t.rows, cells)
	t.notes = append(t.notes, note)
}

func (t *table) writeTo(b *strings.Builder) {
	var widths []int
	for _, row := range t.rows {
		for i, c := range row {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	for r, row := range t.rows {
		line := t.indent
		for i, c := range row {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
			if i == 0 {
				line += c + pad
			} else {
				line += "  " + pad + c
			}
		}
		if t.notes[r] != "" {
			line += "  " + t.notes[r]
		}
		b.WriteString(strings.TrimRight(line, " "))
		b.WriteByte('\n')
	}
}

// group formats n with thousands separators: 1234567 → "1,234,567".
func group(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// pct formats a share's rate as a percentage, "n/a" when it has no
// denominator.
func pct(s Share) string {
	if !s.Defined() {
		return "n/a"
	}
	return fmt.Sprintf("%.2f%%", 100*s.Rate())
}

// fpr formats a target false-positive rate: 0.001 → "0.1%".
func fpr(x float64) string { return limitPercent(x) }
