package snssender_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/mfakit/mfa"
	"github.com/mfakit/mfa/sentcode"
	"github.com/mfakit/mfa/snssender"
)

const publishOK = `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m-1</MessageId></PublishResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></PublishResponse>`

type captured struct {
	mu   sync.Mutex
	req  *http.Request
	body []byte
}

// fakeSNS is a local HTTP server that records the request and answers as
// SNS does, with status.
func fakeSNS(t *testing.T, status int, reply string) (*httptest.Server, *captured) {
	c := &captured{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.req, c.body = r.Clone(context.Background()), b
		c.mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		io.WriteString(w, reply)
	}))
	t.Cleanup(srv.Close)
	return srv, c
}

var creds = credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "")

func client(srv *httptest.Server) *sns.Client {
	return sns.New(sns.Options{
		Region: "eu-west-1", Credentials: creds, BaseEndpoint: aws.String(srv.URL), HTTPClient: srv.Client(),
		RetryMaxAttempts: 1,
	})
}

func TestPublishSigned(t *testing.T) {
	srv, got := fakeSNS(t, http.StatusOK, publishOK)
	s, err := snssender.New(snssender.Config{Client: client(srv), SenderID: "Example", MaxPrice: "0.50"})
	if err != nil {
		t.Fatal(err)
	}
	m := sentcode.Message{Kind: "sms", To: "+447400123456", Code: "402913", Purpose: sentcode.PurposeSignIn, Valid: 5 * time.Minute}
	if err := (sentcode.DefaultTemplate{Issuer: "Example"}).Render(&m); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got.mu.Lock()
	defer got.mu.Unlock()
	form, err := url.ParseQuery(string(got.body))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"Action": "Publish", "PhoneNumber": "+447400123456", "Message": m.Text}
	for k, v := range want {
		if form.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, form.Get(k), v)
		}
	}
	attrs := map[string]string{}
	for i := 1; form.Get("MessageAttributes.entry."+itoa(i)+".Name") != ""; i++ {
		p := "MessageAttributes.entry." + itoa(i)
		attrs[form.Get(p+".Name")] = form.Get(p + ".Value.StringValue")
	}
	if attrs["AWS.SNS.SMS.SMSType"] != "Transactional" || attrs["AWS.SNS.SMS.SenderID"] != "Example" || attrs["AWS.SNS.SMS.MaxPrice"] != "0.50" {
		t.Errorf("attributes %v", attrs)
	}
	// The signature: the SDK's own signer, given the same request, time
	// and credentials, produces the same Authorization header.
	auth := got.req.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") || !strings.Contains(auth, "/eu-west-1/sns/aws4_request") {
		t.Fatalf("Authorization %q", auth)
	}
	at, err := time.Parse("20060102T150405Z", got.req.Header.Get("X-Amz-Date"))
	if err != nil {
		t.Fatal(err)
	}
	re, _ := http.NewRequest(got.req.Method, srv.URL+got.req.URL.RequestURI(), bytes.NewReader(got.body))
	for k, v := range got.req.Header {
		// Go's transport adds Accept-Encoding after the SDK signed.
		if k != "Authorization" && k != "Accept-Encoding" {
			re.Header[k] = v
		}
	}
	sum := sha256.Sum256(got.body)
	cr, _ := creds.Retrieve(context.Background())
	if err := v4.NewSigner().SignHTTP(context.Background(), cr, re, hex.EncodeToString(sum[:]), "sns", "eu-west-1", at); err != nil {
		t.Fatal(err)
	}
	if re.Header.Get("Authorization") != auth {
		t.Fatalf("signature does not verify:\n got  %s\n want %s", auth, re.Header.Get("Authorization"))
	}
}

func itoa(i int) string { return string(rune('0' + i)) }

func TestPublishFails(t *testing.T) {
	srv, _ := fakeSNS(t, http.StatusBadRequest, `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>bad</Message></Error><RequestId>r</RequestId></ErrorResponse>`)
	s, _ := snssender.New(snssender.Config{Client: client(srv)})
	if err := s.Send(context.Background(), sentcode.Message{To: "+447400123456", Text: "t"}); err == nil {
		t.Fatal("an SNS error was not returned")
	}
}

func TestBadInput(t *testing.T) {
	if _, err := snssender.New(snssender.Config{}); !errors.Is(err, mfa.ErrConfig) {
		t.Fatalf("no client: %v", err)
	}
	if _, err := snssender.New(snssender.Config{Client: &sns.Client{}, SenderID: "a\nb"}); !errors.Is(err, mfa.ErrConfig) {
		t.Fatalf("control character: %v", err)
	}
	srv, got := fakeSNS(t, http.StatusOK, publishOK)
	s, _ := snssender.New(snssender.Config{Client: client(srv)})
	for _, to := range []string{"", "447400123456", "+44 7400 123456", "+4474001234561234567", "+44740012345a"} {
		if err := s.Send(context.Background(), sentcode.Message{To: to, Text: "t"}); !errors.Is(err, mfa.ErrInvalidInput) {
			t.Errorf("%q: %v", to, err)
		}
	}
	if got.req != nil {
		t.Fatal("a bad number reached SNS")
	}
}
