package channel_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// mailServer is a real SMTP server (go-smtp) on loopback, with STARTTLS
// (a self-signed certificate made for the test) and AUTH PLAIN and LOGIN,
// offered only over TLS. It records what it receives.
type mailServer struct {
	host string
	port int
	tls  *tls.Config // for the client: trusts the server's certificate
	cert []byte      // the server's certificate, DER

	mu       sync.Mutex
	received []receivedMail
	refuse   map[string]*smtp.SMTPError // recipient → the reply to RCPT
	dropData atomic.Bool                // close the connection in the middle of DATA
	keep     bool                       // keep the messages' bodies (tests) or only count them (benchmarks)
	count    atomic.Int64
	sessions atomic.Int64 // connections (go-smtp starts a new session after STARTTLS)
	conns    map[*smtp.Conn]bool
}

type receivedMail struct {
	From, To string
	User     string // who authenticated
	TLS      bool
	Data     []byte
}

const (
	testUser     = "firebreak"
	testPassword = "correct horse battery staple"
)

func startMailServer(tb testing.TB, keep bool, opts ...func(*smtp.Server)) *mailServer {
	tb.Helper()
	cert, pool := selfSigned(tb)
	ms := &mailServer{host: "127.0.0.1", keep: keep, cert: cert.Certificate[0], refuse: map[string]*smtp.SMTPError{}, conns: map[*smtp.Conn]bool{},
		tls: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		ms.mu.Lock()
		if !ms.conns[c] {
			ms.conns[c] = true
			ms.sessions.Add(1)
		}
		ms.mu.Unlock()
		return &mailSession{ms: ms, conn: c}, nil
	}))
	s.Domain = "mx.test"
	s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	s.ReadTimeout = 10 * time.Second
	s.WriteTimeout = 10 * time.Second
	s.MaxMessageBytes = 1 << 20
	for _, o := range opts {
		o(s)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ms.port = l.Addr().(*net.TCPAddr).Port
	go s.Serve(l)
	tb.Cleanup(func() { s.Close() })
	return ms
}

func (ms *mailServer) mails() []receivedMail {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return append([]receivedMail(nil), ms.received...)
}

func (ms *mailServer) refuseRcpt(addr string, e *smtp.SMTPError) {
	ms.mu.Lock()
	ms.refuse[addr] = e
	ms.mu.Unlock()
}

type mailSession struct {
	ms       *mailServer
	conn     *smtp.Conn
	user     string
	from, to string
}

func (s *mailSession) AuthMechanisms() []string { return []string{sasl.Plain, sasl.Login} }

func (s *mailSession) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		if user != testUser || pass != testPassword {
			return errors.New("invalid username or password")
		}
		s.user = user
		return nil
	}
	if mech == sasl.Login {
		return &loginServer{check: check}, nil
	}
	return sasl.NewPlainServer(func(_, user, pass string) error { return check(user, pass) }), nil
}

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.ms.mu.Lock()
	e := s.ms.refuse[to]
	s.ms.mu.Unlock()
	if e != nil {
		return e
	}
	s.to = to
	return nil
}

func (s *mailSession) Data(r io.Reader) error {
	if s.ms.dropData.Load() {
		io.ReadFull(r, make([]byte, 64))
		s.conn.Conn().Close() // gone in the middle of the message
		return errors.New("dropped")
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.ms.count.Add(1)
	if s.ms.keep {
		_, isTLS := s.conn.TLSConnectionState()
		s.ms.mu.Lock()
		s.ms.received = append(s.ms.received, receivedMail{From: s.from, To: s.to, User: s.user, TLS: isTLS, Data: b})
		s.ms.mu.Unlock()
	}
	return nil
}

func (s *mailSession) Reset()        { s.from, s.to = "", "" }
func (s *mailSession) Logout() error { return nil }

// loginServer is the server side of AUTH LOGIN (go-sasl has only the
// client side).
type loginServer struct {
	check func(user, pass string) error
	user  string
	step  int
}

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	l.step++
	switch l.step {
	case 1:
		if response != nil {
			l.user, l.step = string(response), 2
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 2:
		l.user = string(response)
		return []byte("Password:"), false, nil
	}
	return nil, true, l.check(l.user, string(response))
}

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(tb testing.TB) (tls.Certificate, *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mx.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func (ms *mailServer) addr() string { return net.JoinHostPort(ms.host, strconv.Itoa(ms.port)) }

// pemOf returns the server's certificate as PEM, for ca_file.
func pemOf(ms *mailServer) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ms.cert})
}
