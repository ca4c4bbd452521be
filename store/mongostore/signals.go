package mongostore

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/mfakit/mfa/store"
)

// signalDoc is one record of one list. N orders the records of a list
// as they were added: each insert takes the number after the highest
// one read, and of two inserts that read the same list one finds the
// number taken (a unique index on k and n), reads again and takes the
// next. The _id adds a random part to the number, so no record ever
// has the _id of one deleted before it: a number freed by a delete can
// be taken again by an insert that read the list before that record was
// numbered, and a delete by _id from an older reading must not remove
// the new record. FerretDB 1.x makes a filtered delete a read and then a
// delete, so only a delete of _ids that are never reused is safe there.
type signalDoc struct {
	ID   string `bson:"_id"`
	K    string `bson:"k"`
	N    int64  `bson:"n"`
	Time int64  `bson:"tm"`
	X    int64  `bson:"x"` // Expires
	At   any    `bson:"at,omitempty"`
	Data []byte `bson:"d"`
}

func (d *signalDoc) signal() store.Signal {
	return store.Signal{Time: fromMicros(d.Time), Expires: fromMicros(d.X), Data: append([]byte{}, d.Data...)}
}

// Observe implements [store.Signals]. One query reads every list named;
// one unordered insert adds the new records; when it added any, one more
// query reads the lists it added to again (see below); one delete removes
// the records that expired or were trimmed. A record whose number another
// Observe took first is read and numbered again. Nothing is lost to a
// concurrent Observe: records are only ever inserted, and deleted only
// once expired or trimmed.
func (s *Store) Observe(ctx context.Context, now time.Time, sightings ...store.Sighting) ([][]store.Signal, error) {
	const op = "observe"
	if len(sightings) == 0 {
		return nil, nil
	}
	keys := make([]string, 0, len(sightings))
	for _, o := range sightings {
		if err := o.Check(); err != nil {
			return nil, err
		}
		keys = append(keys, o.Key)
	}
	lists, err := s.readSignals(ctx, keys)
	if err != nil {
		return nil, wrap(op, err)
	}
	// adds[i] is the record sightings[i] adds, if any.
	adds := make([]*signalDoc, len(sightings))
	todo := make([]int, 0, len(sightings))
	for i, o := range sightings {
		if o.Signal.Data != nil {
			todo = append(todo, i)
		}
	}
	for len(todo) > 0 {
		top := make(map[string]int64)
		for k, l := range lists {
			for _, d := range l {
				top[k] = max(top[k], d.N)
			}
		}
		docs := make([]any, len(todo))
		for j, i := range todo {
			o := sightings[i]
			top[o.Key]++
			n := top[o.Key]
			var r [12]byte
			if _, err := rand.Read(r[:]); err != nil {
				return nil, wrap(op, err)
			}
			adds[i] = &signalDoc{ID: o.Key + "#" + strconv.FormatInt(n, 10) + "#" + hex.EncodeToString(r[:]), K: o.Key, N: n,
				Time: micros(o.Signal.Time), X: micros(o.Signal.Expires), At: s.ttlAt(o.Signal.Expires), Data: append([]byte{}, o.Signal.Data...)}
			docs[j] = adds[i]
		}
		taken, err := insertDocs(ctx, s.signals, false, docs)
		if err != nil {
			return nil, wrap(op, err)
		}
		if len(taken) == 0 {
			break
		}
		again := todo[:0:0]
		var retry []string
		for _, j := range taken {
			again = append(again, todo[j])
			retry = append(retry, sightings[todo[j]].Key)
		}
		// Records numbered after a taken one landed and stay: only the
		// taken ones are numbered again.
		fresh, err := s.readSignals(ctx, retry)
		if err != nil {
			return nil, wrap(op, err)
		}
		for k, l := range fresh {
			lists[k] = l
		}
		todo = again
		if err := ctx.Err(); err != nil {
			return nil, wrap(op, err)
		}
	}
	// Each list as it stands after each sighting, in turn: what was read
	// (without this call's records, which a second reading may hold), and
	// the records of this call's sightings so far.
	ours := make(map[string]bool)
	for _, d := range adds {
		if d != nil {
			ours[d.ID] = true
		}
	}
	for k, l := range lists {
		lists[k] = slices.DeleteFunc(l, func(d *signalDoc) bool { return ours[d.ID] })
	}
	out := make([][]store.Signal, len(sightings))
	var drop []string
	dropped := make(map[string]bool)
	for i, o := range sightings {
		l := lists[o.Key]
		if adds[i] != nil {
			l = append(l, adds[i])
		}
		live := make([]*signalDoc, 0, len(l))
		for _, d := range l {
			if now.Before(fromMicros(d.X)) {
				live = append(live, d)
			} else if !dropped[d.ID] {
				drop, dropped[d.ID] = append(drop, d.ID), true
			}
		}
		slices.SortStableFunc(live, func(a, b *signalDoc) int { return cmp.Or(cmp.Compare(a.Time, b.Time), cmp.Compare(a.N, b.N)) })
		if len(live) > o.Keep {
			for _, d := range live[:len(live)-o.Keep] {
				if !dropped[d.ID] {
					drop, dropped[d.ID] = append(drop, d.ID), true
				}
			}
			live = live[len(live)-o.Keep:]
		}
		lists[o.Key] = live
		out[i] = make([]store.Signal, len(live))
		for j, d := range live {
			out[i][j] = d.signal()
		}
	}
	// Two calls that read a list at once each trim only what they read,
	// so together they could leave it longer than Keep. So a call that
	// added to a list reads it once more, after its records landed, and
	// trims it as it stands then: of the calls that add to one list at
	// once, the one whose insert lands last reads every record the others
	// added. A delete from an older reading is still safe: a record
	// outside the Keep newest of fewer records is outside them of more.
	if keep := addedKeeps(sightings, adds); len(keep) > 0 {
		keys := make([]string, 0, len(keep))
		for k := range keep {
			keys = append(keys, k)
		}
		fresh, err := s.readSignals(ctx, keys)
		if err != nil {
			return nil, wrap(op, err)
		}
		for k, l := range fresh {
			live := make([]*signalDoc, 0, len(l))
			for _, d := range l {
				if dropped[d.ID] {
					continue
				}
				if now.Before(fromMicros(d.X)) {
					live = append(live, d)
				} else {
					drop, dropped[d.ID] = append(drop, d.ID), true
				}
			}
			slices.SortStableFunc(live, func(a, b *signalDoc) int { return cmp.Or(cmp.Compare(a.Time, b.Time), cmp.Compare(a.N, b.N)) })
			for _, d := range live[:max(0, len(live)-keep[k])] {
				drop, dropped[d.ID] = append(drop, d.ID), true
			}
		}
	}
	if len(drop) > 0 {
		if _, err := s.signals.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: drop}}}}); err != nil {
			return nil, wrap(op, err)
		}
	}
	return out, nil
}

// addedKeeps returns, for each list a record of adds went to, the Keep
// of its last sighting: the length the list is trimmed to when the call
// returns.
func addedKeeps(sightings []store.Sighting, adds []*signalDoc) map[string]int {
	var keep map[string]int
	for i, d := range adds {
		if d != nil {
			if keep == nil {
				keep = make(map[string]int)
			}
			keep[sightings[i].Key] = 0
		}
	}
	for _, o := range sightings {
		if _, ok := keep[o.Key]; ok {
			keep[o.Key] = o.Keep
		}
	}
	return keep
}

// readSignals reads every record of the lists named.
func (s *Store) readSignals(ctx context.Context, keys []string) (map[string][]*signalDoc, error) {
	cur, err := s.signals.Find(ctx, bson.D{{Key: "k", Value: bson.D{{Key: "$in", Value: keys}}}})
	if err != nil {
		return nil, err
	}
	defer cur.Close(ctx)
	m := make(map[string][]*signalDoc, len(keys))
	for cur.Next(ctx) {
		d := new(signalDoc)
		if err := cur.Decode(d); err != nil {
			return nil, err
		}
		m[d.K] = append(m[d.K], d)
	}
	return m, cur.Err()
}
