package sqlstore

// Migrations is the number of migrations the store knows, which is less
// than SchemaVersion when their numbers leave a gap.
func Migrations(s *Store) int {
	ms, err := s.migrations()
	if err != nil {
		return -1
	}
	return len(ms)
}
