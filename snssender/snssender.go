package snssender

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/mfakit/mfa/factor"
	"github.com/mfakit/mfa/sentcode"
)

// Publisher is the one call of the SNS client a Sender makes; *sns.Client
// implements it.
type Publisher interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Config configures a [Sender]. Client is required; every other field is
// safe when zero.
type Config struct {
	// Client publishes: sns.NewFromConfig(awsConfig). Required.
	Client Publisher
	// SenderID, where the destination country supports it, is the
	// alphanumeric name the message comes from (AWS.SNS.SMS.SenderID).
	// Default none.
	SenderID string
	// OriginationNumber is the number the message is sent from
	// (AWS.MM.SMS.OriginationNumber). Default: the account's choice.
	OriginationNumber string
	// MaxPrice caps what one message may cost, in USD
	// (AWS.SNS.SMS.MaxPrice, e.g. "0.50"); a dearer message is not sent.
	// Default none: the account's spend limit alone.
	MaxPrice string
}

// Sender delivers the codes of package sms with Amazon SNS Publish, as
// transactional SMS. It implements sentcode.Sender.
type Sender struct {
	cfg Config
}

// New validates cfg and returns a Sender. Errors wrap mfa.ErrConfig.
func New(cfg Config) (*Sender, error) {
	if cfg.Client == nil {
		return nil, fmt.Errorf("%w: snssender: Client is required", factor.ErrConfig)
	}
	if strings.ContainsFunc(cfg.SenderID+cfg.OriginationNumber+cfg.MaxPrice, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return nil, fmt.Errorf("%w: snssender: control character in Config", factor.ErrConfig)
	}
	return &Sender{cfg: cfg}, nil
}

func attr(v string) types.MessageAttributeValue {
	return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
}

// Send implements sentcode.Sender: m.Text to m.To, which must be an E.164
// number (package sms gives nothing else).
func (s *Sender) Send(ctx context.Context, m sentcode.Message) error {
	if len(m.To) < 3 || len(m.To) > 16 || m.To[0] != '+' || strings.Trim(m.To[1:], "0123456789") != "" {
		return fmt.Errorf("%w: snssender: destination is not an E.164 number", factor.ErrInvalidInput)
	}
	attrs := map[string]types.MessageAttributeValue{"AWS.SNS.SMS.SMSType": attr("Transactional")}
	if s.cfg.SenderID != "" {
		attrs["AWS.SNS.SMS.SenderID"] = attr(s.cfg.SenderID)
	}
	if s.cfg.OriginationNumber != "" {
		attrs["AWS.MM.SMS.OriginationNumber"] = attr(s.cfg.OriginationNumber)
	}
	if s.cfg.MaxPrice != "" {
		attrs["AWS.SNS.SMS.MaxPrice"] = attr(s.cfg.MaxPrice)
	}
	_, err := s.cfg.Client.Publish(ctx, &sns.PublishInput{
		PhoneNumber: aws.String(m.To), Message: aws.String(m.Text), MessageAttributes: attrs,
	})
	return err
}
