package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"firebreak"
	"firebreak/detect"
	"firebreak/engine"
	"firebreak/eval"
	"firebreak/ingest"
	"firebreak/risk"
)

// replayer runs three stages in order-preserving batches: decode, score, and
// report (evaluation, baseline rule, scores file). Only the middle stage
// touches the model, so scoring stays strictly sequential and causal while
// the other two use the second core.
type replayer struct {
	pipe        *engine.Pipeline
	scores      *bufio.Writer
	model       *eval.Report
	naive       *eval.NaiveRule
	naiveReport *eval.Report
	stderr      io.Writer
	rejected    int64
	buf         []byte
	det         *detect.Detector // nil with --no-detect
	truth       eval.Truth
	incidents   incidentReport
}

const replayBatch = 1024

// item is one input record in input order: a decoded event with its
// verdict, or the error of a rejected line.
type item struct {
	ev  firebreak.Event
	err error
	res risk.Result
}

func (r *replayer) run(ctx context.Context, dec *ingest.Decoder) error {
	decoded := make(chan []item, 8)
	scored := make(chan []item, 8)
	free := make(chan []item, 20)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	decErr := make(chan error, 1)
	go func() { decErr <- decodeAll(ctx, dec, decoded, free) }()
	go func() {
		defer close(scored)
		n := 0
		for b := range decoded {
			for k := range b {
				if b[k].err == nil {
					r.pipe.Process(&b[k].ev, &b[k].res)
					if r.det != nil {
						if n&1023 == 0 {
							r.det.SetAccounts(r.pipe.Model().Accounts())
						}
						n++
						r.det.Observe(&b[k].ev, b[k].res.Score)
					}
				}
			}
			scored <- b
		}
	}()
	i := 0
	for b := range scored {
		for k := range b {
			r.report(i, &b[k])
			i++
		}
		select {
		case free <- b[:0]:
		default:
		}
	}
	r.pipe.Refresh()
	return <-decErr
}

func decodeAll(ctx context.Context, dec *ingest.Decoder, out chan<- []item, free chan []item) error {
	defer close(out)
	b := make([]item, 0, replayBatch)
	for {
		b = append(b, item{})
		it := &b[len(b)-1]
		err := dec.Next(&it.ev)
		var fe *firebreak.FieldError
		switch {
		case err == io.EOF:
			b = b[:len(b)-1]
			if len(b) > 0 {
				out <- b
			}
			return nil
		case errors.As(err, &fe):
			it.err = fe
		case err != nil:
			return fmt.Errorf("read input at line %d: %w", dec.Line(), err)
		}
		if len(b) == replayBatch {
			select {
			case out <- b:
			case <-ctx.Done():
				return ctx.Err()
			}
			select {
			case b = <-free:
			default:
				b = make([]item, 0, replayBatch)
			}
		}
	}
}

// report adds one scored record to the evaluation and the scores file.
func (r *replayer) report(i int, it *item) {
	if it.err != nil {
		r.rejected++
		if r.rejected <= 10 {
			fmt.Fprintf(r.stderr, "firebreak replay: rejected %v\n", it.err)
		}
		if r.scores != nil {
			r.buf = append(r.buf[:0], `{"i":`...)
			r.buf = strconv.AppendInt(r.buf, int64(i), 10)
			r.buf = append(r.buf, `,"error":`...)
			r.buf = strconv.AppendQuote(r.buf, it.err.Error())
			r.buf = append(r.buf, "}\n"...)
			r.scores.Write(r.buf)
		}
		return
	}
	e, res := &it.ev, &it.res
	a := firebreak.Assessment{Score: res.Score, Decision: res.Decision}
	r.model.Add(e, a)
	r.truth.Add(e)
	if r.naive != nil {
		r.naiveReport.Add(e, r.naive.Assess(e))
	}
	if r.scores != nil && !e.IsLogin() {
		// An account change is not scored (decision 0007).
		r.buf = append(r.buf[:0], `{"i":`...)
		r.buf = strconv.AppendInt(r.buf, int64(i), 10)
		r.buf = append(r.buf, `,"type":`...)
		r.buf = strconv.AppendQuote(r.buf, e.Type)
		r.buf = append(r.buf, "}\n"...)
		r.scores.Write(r.buf)
		return
	}
	if r.scores != nil {
		if res.N > 0 {
			a.Reasons = risk.Reasons(e, res)
		}
		r.buf = scoreLine(r.buf[:0], i, &a)
		r.scores.Write(r.buf)
	}
}
