package notice

import (
	"bytes"
	"errors"
	"fmt"
	"text/template/parse"
)

// MaxCalls bounds the {{template}} calls one render can make, counting a
// block called twice from a block called twice as four. Together with
// ranging only over the data's lists and the output limit, it keeps every
// render of an accepted template short, whatever its text.
const MaxCalls = 10000

// errTooLong stops a render whose output passes MaxNoticeBody.
var errTooLong = errors.New("output longer than the limit")

// bounded refuses templates whose rendering could run away: calls that
// recurse or multiply past MaxCalls, and range over anything but a list in
// the data (Data has none today, so range is refused).
func bounded(p part) error {
	counts := map[string]int{}
	active := map[string]bool{}
	var expand func(name string) (int, error)
	expand = func(name string) (int, error) {
		if n, ok := counts[name]; ok {
			return n, nil
		}
		tr := p.trees[name]
		if tr == nil {
			return 0, nil // the linter reports undefined templates
		}
		if active[name] {
			return 0, fmt.Errorf("template %q calls itself", name)
		}
		active[name] = true
		defer delete(active, name)
		total := 1
		var err error
		walk(tr.Root, func(n parse.Node) {
			tn, ok := n.(*parse.TemplateNode)
			if !ok || err != nil {
				return
			}
			var c int
			c, err = expand(tn.Name)
			total += c
			if total > MaxCalls {
				err = fmt.Errorf("template %q expands to more than %d template calls", name, MaxCalls)
			}
		})
		counts[name] = total
		return total, err
	}
	if _, err := expand(p.root); err != nil {
		return err
	}
	var rangeErr error
	checkRanges(p, func(tr *parse.Tree, n parse.Node, reason string) {
		if rangeErr == nil {
			loc, _ := tr.ErrorContext(n)
			rangeErr = fmt.Errorf("%s: %s", loc, reason)
		}
	})
	return rangeErr
}

// limitWriter is a buffer that refuses to grow past max bytes.
type limitWriter struct {
	buf *bytes.Buffer
	max int
}

func (w *limitWriter) Write(b []byte) (int, error) {
	if w.buf.Len()+len(b) > w.max {
		return 0, errTooLong
	}
	return w.buf.Write(b)
}
