package totp

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding"
	"encoding/binary"
)

// The HMAC here is RFC 2104 written out so that a verification allocates
// nothing and hashes the key blocks once, not once per step: the hash
// states after the ipad and opad blocks are saved and restored for each
// counter, so each code costs two compressions instead of four. The hash
// values are used only through their concrete constructors in the same
// function, which lets the compiler keep them on the stack; that is why
// the three algorithms have three copies of one short loop.

// maxState is room for a marshalled SHA-1, SHA-256 or SHA-512 state.
const maxState = 256

// window sets out[i] to the RFC 4226 value of key at counter first+i,
// reduced to digits decimal digits (6 or 8). Every value is computed.
func window(alg Algorithm, key []byte, first uint64, digits int, out []uint32) {
	var msg [8]byte
	switch alg {
	case SHA256:
		var k [sha256.BlockSize]byte
		if len(key) > len(k) {
			d := sha256.Sum256(key) // RFC 2104 §2: long keys are hashed first
			copy(k[:], d[:])
		} else {
			copy(k[:], key)
		}
		in, o := sha256.New(), sha256.New()
		var si, so [maxState]byte
		xor(k[:], 0x36)
		in.Write(k[:])
		xor(k[:], 0x36^0x5c)
		o.Write(k[:])
		clear(k[:])
		sti, _ := in.(encoding.BinaryAppender).AppendBinary(si[:0])
		sto, _ := o.(encoding.BinaryAppender).AppendBinary(so[:0])
		var d [sha256.Size]byte
		for i := range out {
			binary.BigEndian.PutUint64(msg[:], first+uint64(i))
			_ = in.(encoding.BinaryUnmarshaler).UnmarshalBinary(sti)
			in.Write(msg[:])
			in.Sum(d[:0])
			_ = o.(encoding.BinaryUnmarshaler).UnmarshalBinary(sto)
			o.Write(d[:])
			o.Sum(d[:0])
			out[i] = truncate(d[:], digits)
		}
		clear(si[:])
		clear(so[:])
	case SHA512:
		var k [sha512.BlockSize]byte
		if len(key) > len(k) {
			d := sha512.Sum512(key)
			copy(k[:], d[:])
		} else {
			copy(k[:], key)
		}
		in, o := sha512.New(), sha512.New()
		var si, so [maxState]byte
		xor(k[:], 0x36)
		in.Write(k[:])
		xor(k[:], 0x36^0x5c)
		o.Write(k[:])
		clear(k[:])
		sti, _ := in.(encoding.BinaryAppender).AppendBinary(si[:0])
		sto, _ := o.(encoding.BinaryAppender).AppendBinary(so[:0])
		var d [sha512.Size]byte
		for i := range out {
			binary.BigEndian.PutUint64(msg[:], first+uint64(i))
			_ = in.(encoding.BinaryUnmarshaler).UnmarshalBinary(sti)
			in.Write(msg[:])
			in.Sum(d[:0])
			_ = o.(encoding.BinaryUnmarshaler).UnmarshalBinary(sto)
			o.Write(d[:])
			o.Sum(d[:0])
			out[i] = truncate(d[:], digits)
		}
		clear(si[:])
		clear(so[:])
	default:
		windowSHA1(key, first, digits, out)
	}
}

// windowSHA1 is window for SHA-1, the default, with less work per step:
// the inner message (8 bytes) and the outer one (a 20-byte digest) each
// fit in one block after the key block, so each is written already padded
// as one full block, which SHA-1 compresses at once, and the digest is
// read from the marshalled state instead of through Sum, which would copy
// the state and pad it again.
func windowSHA1(key []byte, first uint64, digits int, out []uint32) {
	var k [sha1.BlockSize]byte
	if len(key) > len(k) {
		d := sha1.Sum(key)
		copy(k[:], d[:])
	} else {
		copy(k[:], key)
	}
	in, o := sha1.New(), sha1.New()
	xor(k[:], 0x36)
	in.Write(k[:])
	xor(k[:], 0x36^0x5c)
	o.Write(k[:])
	clear(k[:])
	inApp, inUn := in.(encoding.BinaryAppender), in.(encoding.BinaryUnmarshaler)
	oApp, oUn := o.(encoding.BinaryAppender), o.(encoding.BinaryUnmarshaler)
	var si, so, st [sha1State]byte
	sti, _ := inApp.AppendBinary(si[:0])
	sto, _ := oApp.AppendBinary(so[:0])
	// The padded blocks: message, 0x80, zeros, the bit length of the key
	// block plus the message.
	var ib, ob [sha1.BlockSize]byte
	ib[8] = 0x80
	binary.BigEndian.PutUint64(ib[56:], (sha1.BlockSize+8)*8)
	ob[sha1.Size] = 0x80
	binary.BigEndian.PutUint64(ob[56:], (sha1.BlockSize+sha1.Size)*8)
	for i := range out {
		binary.BigEndian.PutUint64(ib[:8], first+uint64(i))
		_ = inUn.UnmarshalBinary(sti)
		in.Write(ib[:])
		h, _ := inApp.AppendBinary(st[:0])
		copy(ob[:sha1.Size], h[sha1StateOff:])
		_ = oUn.UnmarshalBinary(sto)
		o.Write(ob[:])
		h, _ = oApp.AppendBinary(st[:0])
		out[i] = truncate(h[sha1StateOff:sha1StateOff+sha1.Size], digits)
	}
	clear(si[:])
	clear(so[:])
	clear(st[:])
	clear(ib[:])
	clear(ob[:])
}

// sha1State is the length of a marshalled SHA-1 state: magic, five state
// words, a block and the length. TestZeroAllocs fails if it is too short
// (the state would then be appended to a new slice).
const sha1State = 4 + 5*4 + sha1.BlockSize + 8

// sha1StateOff is where the five state words, big-endian, start in a
// marshalled SHA-1 state: after its 4-byte magic "sha\x01". After a whole
// number of blocks they are the digest. TestHOTPVectors and the RFC 6238
// vectors check it.
const sha1StateOff = 4

// xor xors every byte of k, a whole number of 8-byte words, with b.
func xor(k []byte, b byte) {
	w := uint64(b) * 0x0101010101010101
	for i := 0; i+8 <= len(k); i += 8 {
		binary.LittleEndian.PutUint64(k[i:], binary.LittleEndian.Uint64(k[i:])^w)
	}
}

// truncate is RFC 4226 §5.3 dynamic truncation of mac, reduced to digits
// decimal digits. The low nibble of the last byte picks a 31-bit window
// among mac's first 19 bytes; it is taken by a mask and two shifts by
// amounts that depend on the nibble (constant time on every CPU Go
// supports), so no memory access or branch depends on the digest.
func truncate(mac []byte, digits int) uint32 {
	off := uint(mac[len(mac)-1] & 0x0f)
	w0 := binary.BigEndian.Uint64(mac[0:8])
	w1 := binary.BigEndian.Uint64(mac[8:16])
	w2 := uint64(binary.BigEndian.Uint32(mac[16:20])) << 32
	// The window starts in w0 (off < 8) or in w1; a:b are the 16 bytes
	// from that word on.
	m := -uint64(off >> 3)
	a := w0&^m | w1&m
	b := w1&^m | w2&m
	s := (off & 7) * 8 // 0 to 56: both shifts below stay in range
	bin := uint32((a<<s|b>>(63-s)>>1)>>32) & 0x7fffffff
	// Constant divisors compile to multiplications: no data-dependent time.
	if digits == 8 {
		return bin % 100000000
	}
	return bin % 1000000
}
