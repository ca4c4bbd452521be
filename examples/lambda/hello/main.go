// Command hello is the baseline of the Lambda init-time test: the smallest
// function on aws-lambda-go, built exactly as the example is.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, map[string]any) (string, error) { return "hello", nil })
}
