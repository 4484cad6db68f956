package mx

import (
	"fmt"
	"os"
	"sort"
	"sync"

	"github.com/lmxlab/lmxlab/mx/cpu"
	"github.com/lmxlab/lmxlab/mx/prim"
)

// Device is where arrays live and are computed: a named backend.
type Device struct {
	name    string
	backend prim.Backend
}

// Name is the device's name ("cpu", "gpu").
func (d *Device) Name() string { return d.name }

// Backend is the device's backend.
func (d *Device) Backend() prim.Backend { return d.backend }

func (d *Device) String() string { return d.name }

// Traits are the guarantees of the device's backend beyond the common semantics (bounds-checked
// indices, ordered scatters): the cpu device gives them all, the gpu device none.
func (d *Device) Traits() prim.Traits { return prim.TraitsOf(d.backend) }

// CPU is the native Go backend, always available.
var CPU = &Device{name: "cpu", backend: cpu.New()}

var (
	devMu      sync.Mutex
	devOpeners = map[string]func() (prim.Backend, error){}
	devOpen    = map[string]*Device{"cpu": CPU}
	defaultDev *Device
)

// RegisterDevice makes a device available by name; open is called once, on first use. Backends
// that need cgo or plugins (mx/xla registers "gpu") call it from an init function.
func RegisterDevice(name string, open func() (prim.Backend, error)) {
	devMu.Lock()
	defer devMu.Unlock()
	if _, dup := devOpeners[name]; dup || name == "cpu" {
		panic("mx: RegisterDevice called twice for " + name)
	}
	devOpeners[name] = open
}

// DeviceNames lists the devices that can be opened.
func DeviceNames() []string {
	devMu.Lock()
	defer devMu.Unlock()
	names := []string{"cpu"}
	for n := range devOpeners {
		names = append(names, n)
	}
	sort.Strings(names[1:])
	return names
}

// OpenDevice returns the named device, opening its backend on first use.
func OpenDevice(name string) (*Device, error) {
	devMu.Lock()
	defer devMu.Unlock()
	if d, ok := devOpen[name]; ok {
		return d, nil
	}
	open, ok := devOpeners[name]
	if !ok {
		known := []string{"cpu"}
		for n := range devOpeners {
			known = append(known, n)
		}
		sort.Strings(known)
		hint := ""
		if name == "gpu" {
			hint = " (import github.com/lmxlab/lmxlab/mx/xla, built with cgo, to register it)"
		}
		return nil, fmt.Errorf("mx: unknown device %q; available: %v%s", name, known, hint)
	}
	b, err := open()
	if err != nil {
		return nil, fmt.Errorf("mx: opening device %q: %w", name, err)
	}
	d := &Device{name: name, backend: b}
	devOpen[name] = d
	return d, nil
}

// DefaultDevice is where new arrays are created: LMXLAB_DEVICE if set and available when first
// asked, else CPU, until SetDefaultDevice changes it.
func DefaultDevice() *Device {
	devMu.Lock()
	d := defaultDev
	devMu.Unlock()
	if d != nil {
		return d
	}
	d = CPU
	if name := os.Getenv("LMXLAB_DEVICE"); name != "" && name != "cpu" {
		var err error
		if d, err = OpenDevice(name); err != nil {
			panic(fmt.Sprintf("mx: LMXLAB_DEVICE=%s: %v", name, err))
		}
	}
	devMu.Lock()
	if defaultDev == nil {
		defaultDev = d
	}
	d = defaultDev
	devMu.Unlock()
	return d
}

// SetDefaultDevice sets where new arrays are created.
func SetDefaultDevice(d *Device) {
	devMu.Lock()
	defaultDev = d
	devMu.Unlock()
}

// ToDevice returns a copy of a on device d (a itself if it is already there).
func ToDevice(a *Array, d *Device) *Array {
	if a.dev == d {
		return a
	}
	Eval(a)
	return fromHost(d, a.dtype, a.shape, a.dev.backend.ToHost(a.buf, a.dtype, a.shape))
}
