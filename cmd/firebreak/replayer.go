package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"firebreak"
	"firebreak/engine"
	"firebreak/eval"
	"firebreak/ingest"
	"firebreak/risk"
)

// replayer decodes on one goroutine and scores on another, in batches, so
// that both cores work; order is preserved because batches travel through one
// channel.
type replayer struct {
	pipe        *engine.Pipeline
	scores      *bufio.Writer
	model       *eval.Report
	naive       *eval.NaiveRule
	naiveReport *eval.Report
	stderr      io.Writer
	rejected    int64
	buf         []byte
}

const replayBatch = 1024

// item is a decoded event or the error of a rejected line, in input order.
type item struct {
	ev  firebreak.Event
	err error
}

func (r *replayer) run(ctx context.Context, dec *ingest.Decoder) error {
	batches := make(chan []item, 8)
	free := make(chan []item, 10)
	errc := make(chan error, 1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { errc <- decodeAll(ctx, dec, batches, free) }()
	i := 0
	var res risk.Result
	for b := range batches {
		for k := range b {
			r.one(i, &b[k], &res)
			i++
		}
		select {
		case free <- b[:0]:
		default:
		}
	}
	return <-errc
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

// one scores one input event (or records its rejection).
func (r *replayer) one(i int, it *item, res *risk.Result) {
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
	e := &it.ev
	r.pipe.Process(e, res)
	a := firebreak.Assessment{Score: res.Score, Decision: res.Decision}
	r.model.Add(e, a)
	if r.naive != nil {
		r.naiveReport.Add(e, r.naive.Assess(e))
	}
	if r.scores != nil {
		if res.N > 0 {
			a.Reasons = r.pipe.Model().Reasons(e, res)
		}
		r.buf = scoreLine(r.buf[:0], i, &a)
		r.scores.Write(r.buf)
	}
}
