package mongostore_test

import (
	"fmt"

	"github.com/mfakit/mfa/store/mongostore"
)

// New checks its configuration before it touches any server: a store
// needs a database.
func ExampleNew() {
	_, err := mongostore.New(mongostore.Config{})
	fmt.Println(err)
	// Output: mfa: mongostore: Config.Database is nil
}
