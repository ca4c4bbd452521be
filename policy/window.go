package policy

import (
	"errors"
	"time"
)

const day = 24 * time.Hour

// window is a validated Window.
type window struct {
	days       uint8 // bit d set: the window starts on weekday d
	start, end time.Duration
	loc        *time.Location
}

func compileWindow(w Window) (window, error) {
	c := window{start: w.Start, end: w.End, loc: w.Location}
	if c.end == 0 {
		c.end = day
	}
	switch {
	case w.Start < 0 || w.Start >= day || w.End < 0 || w.End > day:
		return c, errors.New("window Start and End must be within a day")
	case c.start == c.end:
		return c, errors.New("window Start equals End")
	}
	if c.loc == nil {
		c.loc = time.UTC
	}
	for _, d := range w.Days {
		if d < time.Sunday || d > time.Saturday {
			return c, errors.New("window day out of range")
		}
		c.days |= 1 << d
	}
	if c.days == 0 {
		c.days = 0x7f
	}
	return c, nil
}

func (w window) on(d time.Weekday) bool { return w.days&(1<<d) != 0 }

// contains reports whether t falls in w, by the wall clock of w's zone.
func (w window) contains(t time.Time) bool {
	t = t.In(w.loc)
	h, m, s := t.Clock()
	tod := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second
	d := t.Weekday()
	if w.start < w.end {
		return w.on(d) && tod >= w.start && tod < w.end
	}
	// Across midnight: the evening of a listed day, or the morning after.
	return tod >= w.start && w.on(d) || tod < w.end && w.on((d+6)%7)
}
