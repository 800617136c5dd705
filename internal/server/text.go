package server

import (
	"context"
	"strings"
	"sync"
	"unicode/utf8"

	validatepb "buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"buf.build/go/protovalidate"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	protoenc "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// Text that the service cannot keep is refused at the boundary, by one
// rule for every string of every request, whichever the method, the
// service and the transport: PostgreSQL stores no NUL character (U+0000)
// in text, and a string must be UTF-8. The refusal is INVALID_ARGUMENT
// with a google.rpc.BadRequest field violation per string, as
// protovalidate's refusals are (see validationStatus), so that clients
// find the field the same way.

// The rule ids (BadRequest's reason) and descriptions of the refusals.
const (
	ruleNoNUL = "string.no_nul"
	ruleUTF8  = "string.utf8"

	descNUL  = "must not contain the NUL character (U+0000), which cannot be stored: remove it"
	descUTF8 = "must be valid UTF-8: send the text encoded as UTF-8"
)

// maxTextViolations bounds the violations one refusal lists.
const maxTextViolations = 20

// checkText refuses a request that did not decode (see requestCodec) or
// that holds a string with a NUL character or invalid UTF-8, before the
// handlers, the audit trail or the sign-in see its text.
func checkText(codec *requestCodec) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err := requestTextError(codec, req); err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// checkTextStream applies checkText's rule to every message a streaming
// call (reflection, health watches) receives.
func checkTextStream(codec *requestCodec) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return handler(srv, textCheckedStream{ServerStream: ss, codec: codec})
	}
}

type textCheckedStream struct {
	grpc.ServerStream
	codec *requestCodec
}

func (s textCheckedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	return requestTextError(s.codec, m)
}

func requestTextError(codec *requestCodec, req any) error {
	if err := codec.take(req); err != nil {
		return err
	}
	m, ok := req.(proto.Message)
	if !ok {
		return nil
	}
	var w textWalker
	w.message(m.ProtoReflect())
	return w.status()
}

// fieldStep is one step of the path from a request to one of its strings:
// a field and, in a list, the index or, in a map, the key.
type fieldStep struct {
	fd    protoreflect.FieldDescriptor
	index int                 // in a list; -1 otherwise
	key   protoreflect.MapKey // in a map, when fd.IsMap()
}

// element renders the step as protovalidate renders the steps of its
// violations' paths.
func (s fieldStep) element() *validatepb.FieldPathElement {
	fd := s.fd
	el := validatepb.FieldPathElement_builder{
		FieldNumber: proto.Int32(int32(fd.Number())),
		FieldName:   proto.String(string(fd.Name())),
		FieldType:   descriptorpb.FieldDescriptorProto_Type(fd.Kind()).Enum(),
	}.Build()
	switch {
	case fd.IsMap():
		el.SetKeyType(descriptorpb.FieldDescriptorProto_Type(fd.MapKey().Kind()))
		el.SetValueType(descriptorpb.FieldDescriptorProto_Type(fd.MapValue().Kind()))
		switch fd.MapKey().Kind() {
		case protoreflect.BoolKind:
			el.SetBoolKey(s.key.Bool())
		case protoreflect.StringKind:
			el.SetStringKey(s.key.String())
		case protoreflect.Uint32Kind, protoreflect.Uint64Kind, protoreflect.Fixed32Kind, protoreflect.Fixed64Kind:
			el.SetUintKey(s.key.Uint())
		default:
			el.SetIntKey(s.key.Int())
		}
	case fd.IsList() && s.index >= 0:
		el.SetIndex(uint64(s.index))
	}
	return el
}

// textWalker collects the violations of the strings of a message.
type textWalker struct {
	path []fieldStep
	out  []*protovalidate.Violation
}

func (w *textWalker) full() bool { return len(w.out) >= maxTextViolations }

// message walks every populated field of m: nested messages, lists, map
// keys and values, and the set member of each oneof.
func (w *textWalker) message(m protoreflect.Message) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				step := fieldStep{fd: fd, index: -1, key: k}
				if fd.MapKey().Kind() == protoreflect.StringKind {
					w.check(step, k.String(), true)
				}
				w.value(step, fd.MapValue(), mv)
				return !w.full()
			})
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len() && !w.full(); i++ {
				w.value(fieldStep{fd: fd, index: i}, fd, l.Get(i))
			}
		default:
			w.value(fieldStep{fd: fd, index: -1}, fd, v)
		}
		return !w.full()
	})
}

// value checks a string, or walks a message, that step leads to; kd is
// the field (or map value) that says which it is.
func (w *textWalker) value(step fieldStep, kd protoreflect.FieldDescriptor, v protoreflect.Value) {
	switch kd.Kind() {
	case protoreflect.StringKind:
		w.check(step, v.String(), false)
	case protoreflect.MessageKind, protoreflect.GroupKind:
		w.path = append(w.path, step)
		w.message(v.Message())
		w.path = w.path[:len(w.path)-1]
	}
}

func (w *textWalker) check(step fieldStep, s string, forKey bool) {
	switch {
	case strings.IndexByte(s, 0) >= 0:
		w.add(step, ruleNoNUL, descNUL, forKey)
	case !utf8.ValidString(s):
		w.add(step, ruleUTF8, descUTF8, forKey)
	}
}

func (w *textWalker) add(step fieldStep, rule, desc string, forKey bool) {
	if w.full() {
		return
	}
	elements := make([]*validatepb.FieldPathElement, 0, len(w.path)+1)
	for _, s := range w.path {
		elements = append(elements, s.element())
	}
	elements = append(elements, step.element())
	v := validatepb.Violation_builder{
		Field:   validatepb.FieldPath_builder{Elements: elements}.Build(),
		RuleId:  proto.String(rule),
		Message: proto.String(desc),
	}.Build()
	if forKey {
		v.SetForKey(true)
	}
	w.out = append(w.out, &protovalidate.Violation{Proto: v})
}

// status is the refusal of the violations found, nil if none.
func (w *textWalker) status() error {
	if len(w.out) == 0 {
		return nil
	}
	return validationStatus(&protovalidate.ValidationError{Violations: w.out})
}

// requestCodec is the gRPC server's codec: grpc-go's protobuf codec, save
// that a request which does not decode is not an error of the transport,
// which grpc-go would answer with INTERNAL before any interceptor runs.
// Instead the codec leaves the message empty and notes why; checkText
// then refuses the call as INVALID_ARGUMENT, naming the string that is not
// UTF-8 if that is the reason, with the call logged and counted as any
// other refusal.
type requestCodec struct {
	base encoding.CodecV2
	// undecodable maps a message the codec could not fill to the error
	// that refuses its call, until checkText takes it.
	undecodable sync.Map
}

func newRequestCodec() *requestCodec {
	return &requestCodec{base: encoding.GetCodecV2(protoenc.Name)}
}

// Name is the base codec's, "proto".
func (c *requestCodec) Name() string { return c.base.Name() }

// Marshal encodes as the base codec does.
func (c *requestCodec) Marshal(v any) (mem.BufferSlice, error) { return c.base.Marshal(v) }

// Unmarshal decodes as the base codec does; a protobuf message it cannot
// decode is reset and noted for take.
func (c *requestCodec) Unmarshal(data mem.BufferSlice, v any) error {
	err := c.base.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	m, ok := v.(proto.Message)
	if !ok {
		return err
	}
	md := m.ProtoReflect().Descriptor()
	var w textWalker
	w.wire(data.Materialize(), md, 0)
	refusal := w.status()
	if refusal == nil {
		refusal = status.Errorf(codes.InvalidArgument, "the request is not a %s in protobuf's binary format (%v): check the client's generated code against the service's protos",
			md.FullName(), strings.TrimSpace(strings.TrimPrefix(err.Error(), "proto:")))
	}
	proto.Reset(m)
	c.undecodable.Store(v, refusal)
	return nil
}

// take returns, and forgets, the refusal noted for a message that did not
// decode; nil for any other.
func (c *requestCodec) take(v any) error {
	if err, ok := c.undecodable.LoadAndDelete(v); ok {
		return err.(error)
	}
	return nil
}

// maxWireDepth bounds how deep wire walks into nested messages; protobuf
// refuses deeper ones anyway.
const maxWireDepth = 100

// wire walks a message in protobuf's binary format, as md describes it,
// and collects the strings that are not UTF-8 (which protobuf refuses to
// decode, naming the field's type but not where it is). It stops at the
// first malformed part.
func (w *textWalker) wire(b []byte, md protoreflect.MessageDescriptor, depth int) {
	if depth > maxWireDepth {
		return
	}
	seen := map[protowire.Number]int{}
	for len(b) > 0 && !w.full() {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return
		}
		b = b[n:]
		fd := md.Fields().ByNumber(num)
		if fd == nil || typ != protowire.BytesType {
			if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
				return
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return
		}
		b = b[n:]
		step := fieldStep{fd: fd, index: -1}
		if fd.IsList() {
			step.index = seen[num]
			seen[num]++
		}
		switch {
		case fd.IsMap():
			w.wireMapEntry(v, fd, depth)
		case fd.Kind() == protoreflect.StringKind:
			if !utf8.Valid(v) {
				w.add(step, ruleUTF8, descUTF8, false)
			}
		case fd.Kind() == protoreflect.MessageKind:
			w.path = append(w.path, step)
			w.wire(v, fd.Message(), depth+1)
			w.path = w.path[:len(w.path)-1]
		}
	}
}

// wireMapEntry walks one entry of the map field fd.
func (w *textWalker) wireMapEntry(b []byte, fd protoreflect.FieldDescriptor, depth int) {
	kd, vd := fd.MapKey(), fd.MapValue()
	key, keyOK := kd.Default().MapKey(), true
	var value []byte
	var hasValue bool
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return
		}
		b = b[n:]
		if num == 1 {
			k, n, ok := wireScalar(kd.Kind(), typ, b)
			if n < 0 {
				return
			}
			b = b[n:]
			key, keyOK = k.MapKey(), ok
			continue
		}
		if num == 2 && typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return
			}
			b = b[n:]
			value, hasValue = v, true
			continue
		}
		if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
			return
		}
		b = b[n:]
	}
	step := fieldStep{fd: fd, index: -1, key: key}
	if !keyOK {
		w.add(step, ruleUTF8, descUTF8, true)
	}
	if !hasValue {
		return
	}
	switch vd.Kind() {
	case protoreflect.StringKind:
		if !utf8.Valid(value) {
			w.add(step, ruleUTF8, descUTF8, false)
		}
	case protoreflect.MessageKind:
		w.path = append(w.path, step)
		w.wire(value, vd.Message(), depth+1)
		w.path = w.path[:len(w.path)-1]
	}
}

// wireScalar decodes a map key of kind k: its value, the bytes it took
// (negative if malformed, or if the wire type is not k's) and, for a
// string, whether it is UTF-8.
func wireScalar(k protoreflect.Kind, typ protowire.Type, b []byte) (protoreflect.Value, int, bool) {
	if wireType(k) != typ {
		return protoreflect.Value{}, -1, true
	}
	switch typ {
	case protowire.BytesType:
		v, n := protowire.ConsumeBytes(b)
		return protoreflect.ValueOfString(string(v)), n, utf8.Valid(v)
	case protowire.VarintType:
		v, n := protowire.ConsumeVarint(b)
		switch k {
		case protoreflect.BoolKind:
			return protoreflect.ValueOfBool(v != 0), n, true
		case protoreflect.Sint32Kind, protoreflect.Sint64Kind:
			return protoreflect.ValueOfInt64(protowire.DecodeZigZag(v)), n, true
		case protoreflect.Uint32Kind, protoreflect.Uint64Kind:
			return protoreflect.ValueOfUint64(v), n, true
		}
		return protoreflect.ValueOfInt64(int64(v)), n, true
	case protowire.Fixed32Type:
		v, n := protowire.ConsumeFixed32(b)
		if k == protoreflect.Sfixed32Kind {
			return protoreflect.ValueOfInt64(int64(int32(v))), n, true
		}
		return protoreflect.ValueOfUint64(uint64(v)), n, true
	case protowire.Fixed64Type:
		v, n := protowire.ConsumeFixed64(b)
		if k == protoreflect.Sfixed64Kind {
			return protoreflect.ValueOfInt64(int64(v)), n, true
		}
		return protoreflect.ValueOfUint64(v), n, true
	}
	return protoreflect.Value{}, -1, true
}

// wireType is the wire type of a map key of kind k.
func wireType(k protoreflect.Kind) protowire.Type {
	switch k {
	case protoreflect.StringKind:
		return protowire.BytesType
	case protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind:
		return protowire.Fixed32Type
	case protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind:
		return protowire.Fixed64Type
	}
	return protowire.VarintType
}

var _ encoding.CodecV2 = (*requestCodec)(nil)
