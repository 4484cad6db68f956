package tokenizer

import (
	"encoding/json"
	"errors"
	"fmt"
)

// LoadError reports a problem in a tokenizer file: which file, which
// component (as a JSON path such as "pre_tokenizer.pretokenizers[1]") and
// its type.
type LoadError struct {
	File      string // the file, when known
	Component string // JSON path of the component, "" for the file itself
	Type      string // the component's "type", when known
	Err       error
}

func (e *LoadError) Error() string {
	msg := "tokenizer"
	if e.File != "" {
		msg += " " + e.File
	}
	if e.Component != "" {
		msg += ": " + e.Component
		if e.Type != "" {
			msg += " (" + e.Type + ")"
		}
	}
	return msg + ": " + e.Err.Error()
}

func (e *LoadError) Unwrap() error { return e.Err }

func componentError(path, typ string, err error) error {
	var le *LoadError
	if errors.As(err, &le) {
		return err
	}
	return &LoadError{Component: path, Type: typ, Err: err}
}

func missing(err error, what string) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("missing or null field %s", what)
}

// componentType reads the "type" field of a component. A JSON null gives
// typ == "" and no error.
func componentType(raw json.RawMessage, path string) (typ string, fields map[string]json.RawMessage, err error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil, nil
	}
	if err := json.Unmarshal(raw, &fields); err != nil {
		return "", nil, componentError(path, "", fmt.Errorf("expected an object: %w", err))
	}
	t, ok := fields["type"]
	if !ok {
		return "", nil, componentError(path, "", fmt.Errorf("missing field type"))
	}
	if err := json.Unmarshal(t, &typ); err != nil || typ == "" {
		return "", nil, componentError(path, "", fmt.Errorf("field type must be a non-empty string"))
	}
	return typ, fields, nil
}

// parseSequence reads the list field key of a Sequence component, parsing each element with
// parse under the JSON path path.key[i]; elements that parse to nil (no-ops) are dropped.
func parseSequence[T comparable](fields map[string]json.RawMessage, key, path string,
	parse func(json.RawMessage, string) (T, error), bad func(error) error) ([]T, error) {
	list, ok := fields[key]
	if !ok {
		return nil, bad(fmt.Errorf("missing field %s", key))
	}
	var subs []json.RawMessage
	if err := json.Unmarshal(list, &subs); err != nil {
		return nil, bad(err)
	}
	var zero T
	var seq []T
	for i, sub := range subs {
		c, err := parse(sub, fmt.Sprintf("%s.%s[%d]", path, key, i))
		if err != nil {
			return nil, err
		}
		if c != zero {
			seq = append(seq, c)
		}
	}
	return seq, nil
}
