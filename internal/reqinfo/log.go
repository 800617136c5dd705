package reqinfo

import (
	"context"
	"log/slog"
)

// LogHandler wraps h so that every record logged with a request's context
// carries that request's id, the peer address and the client
// certificate's CN, as attributes.
func LogHandler(h slog.Handler) slog.Handler { return logHandler{h} }

type logHandler struct{ slog.Handler }

func (l logHandler) Handle(ctx context.Context, r slog.Record) error {
	if info := From(ctx); info.ID != "" {
		r.AddAttrs(slog.String("request_id", info.ID))
		if info.Peer != "" {
			r.AddAttrs(slog.String("peer", info.Peer))
		}
		if info.ClientCert != "" {
			r.AddAttrs(slog.String("client_cert", info.ClientCert))
		}
	}
	return l.Handler.Handle(ctx, r)
}

func (l logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return logHandler{l.Handler.WithAttrs(attrs)}
}

func (l logHandler) WithGroup(name string) slog.Handler {
	return logHandler{l.Handler.WithGroup(name)}
}
