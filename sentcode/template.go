package sentcode

import (
	"bytes"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"
)

// Template renders the message a code travels in. An application replaces
// it to change the wording or translate it (by [Message.Locale]).
type Template interface {
	// Render fills m.Subject, m.Text and m.HTML from the other fields of
	// m. It must not put the code anywhere but the message body.
	Render(m *Message) error
}

// TemplateFunc adapts a function to a [Template].
type TemplateFunc func(m *Message) error

// Render implements [Template].
func (f TemplateFunc) Render(m *Message) error { return f(m) }

// DefaultTemplate is the English message, plain text and HTML, that the
// factors use when their Config names no Template. Issuer, when set,
// names the service in the subject and body.
type DefaultTemplate struct {
	Issuer string
}

type templateData struct {
	Issuer, Code, Purpose string
	Minutes               int
}

var (
	subjectTmpl = texttemplate.Must(texttemplate.New("s").Parse(
		`{{if .Issuer}}{{.Issuer}}: {{end}}your {{.Purpose}} code`))
	textTmpl = texttemplate.Must(texttemplate.New("t").Parse(
		`{{.Code}} is your {{if .Issuer}}{{.Issuer}} {{end}}{{.Purpose}} code. It expires in {{.Minutes}} minutes. If you did not ask for it, ignore this message and consider changing your password.`))
	htmlTmpl = htmltemplate.Must(htmltemplate.New("h").Parse(
		`<!DOCTYPE html><html><body><p>Your {{if .Issuer}}{{.Issuer}} {{end}}{{.Purpose}} code is</p><p style="font-size:24px;font-family:monospace;letter-spacing:4px"><strong>{{.Code}}</strong></p><p>It expires in {{.Minutes}} minutes. If you did not ask for it, ignore this message and consider changing your password.</p></body></html>`))
)

// Render implements [Template]. The subject holds no code and no line
// break, so no input can add a header.
func (t DefaultTemplate) Render(m *Message) error {
	d := templateData{Issuer: oneLine(t.Issuer), Code: m.Code, Purpose: "sign-in"}
	if m.Purpose == PurposeEnroll {
		d.Purpose = "verification"
	}
	d.Minutes = max(1, int(m.Valid.Round(time.Minute)/time.Minute))
	var b bytes.Buffer
	if err := subjectTmpl.Execute(&b, d); err != nil {
		return err
	}
	m.Subject = oneLine(b.String())
	b.Reset()
	if err := textTmpl.Execute(&b, d); err != nil {
		return err
	}
	m.Text = b.String()
	if m.Kind == "sms" {
		m.HTML = ""
		return nil
	}
	b.Reset()
	if err := htmlTmpl.Execute(&b, d); err != nil {
		return err
	}
	m.HTML = b.String()
	return nil
}

// oneLine drops control characters, so a header value cannot be split.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}
