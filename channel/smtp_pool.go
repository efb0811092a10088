package channel

import (
	"context"
	"time"

	"firebreak"
)

// get returns an idle connection, or opens one if the pool has room, or
// waits for one to come back.
func (s *SMTP) get(ctx context.Context) (*smtpConn, error) {
	select {
	case pc := <-s.idle:
		return pc, nil
	default:
	}
	select {
	case pc := <-s.idle:
		return pc, nil
	case s.slots <- struct{}{}:
		if s.isClosed() {
			<-s.slots
			return nil, providerErr(firebreak.CallNotApplied, 0, "sender closed")
		}
		dctx, cancel := context.WithTimeout(ctx, s.timeout)
		defer cancel()
		c, err := s.dialer.DialToSMTPClientWithContext(dctx)
		if err != nil {
			<-s.slots
			return nil, dialErr(err)
		}
		return &smtpConn{c: c, used: time.Now(), fresh: true}, nil
	case <-ctx.Done():
		return nil, providerErr(firebreak.CallNotApplied, 0, "no SMTP connection free in time")
	}
}

// dialErr classifies a failure to connect, say EHLO, STARTTLS or AUTH:
// nothing was sent, and most causes are configuration problems that must
// not fail the message for good.
func dialErr(err error) error {
	return providerErr(firebreak.CallNotApplied, 0, "connect: "+clip(oneLine(err.Error()), 300))
}

// put returns a connection to the pool.
func (s *SMTP) put(pc *smtpConn) {
	pc.used = time.Now()
	if s.isClosed() {
		s.discard(pc)
		return
	}
	s.idle <- pc // never blocks: idle holds as many as there are slots
}

// discard closes a connection and frees its slot.
func (s *SMTP) discard(pc *smtpConn) {
	_ = pc.c.Close()
	<-s.slots
}

func (s *SMTP) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Close says QUIT on the idle connections; connections in use close when
// their message is done.
func (s *SMTP) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	for {
		select {
		case pc := <-s.idle:
			_ = pc.c.Quit()
			_ = pc.c.Close()
			<-s.slots
		default:
			return nil
		}
	}
}
