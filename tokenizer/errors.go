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
