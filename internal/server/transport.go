package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
)

// mdClientCertCN is the metadata key in which the REST gateway passes the
// common name of the client certificate the HTTP listener verified. Its
// value is percent-encoded (url.QueryEscape), since a court's CN may hold
// characters gRPC metadata cannot carry. It is believed only on calls
// through the gateway's loopback (see ClientCertCN).
const mdClientCertCN = "x-client-cert-cn"

// LoadTLSConfig builds the TLS configuration of both listeners from PEM
// files: the server's certificate chain and key and, optionally, a bundle
// of CAs whose client certificates are accepted. With a client CA, both
// listeners ask for a client certificate and verify it if one is presented
// (tls.VerifyClientCertIfGiven): court systems may present one, while
// browsers without one still get in and authenticate with their token.
// All three empty means no TLS and returns nil.
//
// The files are read once. The key pair is not reloaded on SIGHUP: a
// renewed certificate takes effect at the next restart.
func LoadTLSConfig(certFile, keyFile, clientCAFile string) (*tls.Config, error) {
	if certFile == "" && keyFile == "" {
		if clientCAFile != "" {
			return nil, errors.New("a client CA needs a server certificate and key")
		}
		return nil, nil
	}
	if certFile == "" || keyFile == "" {
		return nil, errors.New("TLS needs both a certificate and a key")
	}
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate %s and key %s: %w", certFile, keyFile, err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair}}
	if clientCAFile != "" {
		pem, err := os.ReadFile(clientCAFile)
		if err != nil {
			return nil, fmt.Errorf("read client CA bundle: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("client CA bundle %s holds no PEM certificate", clientCAFile)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	}
	return cfg, nil
}

// baseTLS returns a copy of cfg that accepts nothing older than TLS 1.2,
// whatever the caller set.
func baseTLS(cfg *tls.Config) *tls.Config {
	c := cfg.Clone()
	if c.MinVersion < tls.VersionTLS12 {
		c.MinVersion = tls.VersionTLS12
	}
	return c
}

// serverCredentials are the gRPC server's transport credentials: TLS with
// cfg, or plaintext when cfg is nil. (REST calls reach the services through
// the gateway's loopback, in process, without a transport.)
func serverCredentials(cfg *tls.Config) credentials.TransportCredentials {
	if cfg == nil {
		return insecure.NewCredentials()
	}
	return credentials.NewTLS(baseTLS(cfg))
}

// httpListener wraps the HTTP listener in TLS when the server has a TLS
// configuration, offering HTTP/2 and HTTP/1.1; otherwise it returns lis.
func (s *Server) httpListener(lis net.Listener) net.Listener {
	if s.cfg.TLS == nil {
		return lis
	}
	c := baseTLS(s.cfg.TLS)
	c.NextProtos = []string{"h2", "http/1.1"}
	return tls.NewListener(lis, c)
}

// verifiedCN returns the subject common name of the client certificate
// that the handshake verified, "" if none was presented. Only a verified
// chain counts: with tls.VerifyClientCertIfGiven an unverifiable
// certificate fails the handshake, and without a client CA none is asked
// for.
func verifiedCN(st *tls.ConnectionState) string {
	if st == nil || len(st.VerifiedChains) == 0 || len(st.VerifiedChains[0]) == 0 {
		return ""
	}
	return st.VerifiedChains[0][0].Subject.CommonName
}

// gatewayClientCertCN is the value of mdClientCertCN that the gateway
// sends for r: the verified client certificate's CN, percent-encoded, or
// "" (which the gateway still sends, so that it replaces anything a client
// put in a Grpc-Metadata-X-Client-Cert-Cn header).
func gatewayClientCertCN(r *http.Request) string {
	return url.QueryEscape(verifiedCN(r.TLS))
}

// ClientCertCN returns the subject common name of the client certificate
// that the calling system presented and the server verified, "" if none.
// For a direct gRPC call it comes from the TLS handshake of the call's
// connection. For a REST call it comes from the x-client-cert-cn metadata
// that the gateway sets from the HTTP listener's handshake, and that
// metadata is believed only on calls through the gateway's loopback, so a
// direct gRPC client cannot claim a CN by sending it.
//
// The CN identifies the calling system for the audit trail only. It is not
// mapped to an API key or a principal: the bearer token remains the
// credential, with or without a certificate.
func ClientCertCN(ctx context.Context) string {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return ""
	}
	if p.Addr != nil && p.Addr.Network() == gatewayNetwork {
		md, _ := metadata.FromIncomingContext(ctx)
		v := md.Get(mdClientCertCN)
		if len(v) != 1 {
			return ""
		}
		cn, err := url.QueryUnescape(v[0])
		if err != nil {
			return ""
		}
		return cn
	}
	if ti, ok := p.AuthInfo.(credentials.TLSInfo); ok {
		return verifiedCN(&ti.State)
	}
	return ""
}
