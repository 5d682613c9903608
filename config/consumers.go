package config

// Consumer is one place an issued secret is delivered to after each
// rotation: a file (the whole value, or one KEY=value line of a .env file)
// or a command fed the value on its stdin, and an optional command that
// checks the delivery. It names the secret; it never holds a value.
type Consumer struct {
	Secret  string `json:"secret"`            // the secret's name in the store
	File    string `json:"file,omitempty"`    // absolute path
	EnvKey  string `json:"env_key,omitempty"` // with File: replace only this KEY=value line
	Command string `json:"command,omitempty"` // run by the shell, the value on stdin
	Verify  string `json:"verify,omitempty"`  // run by the shell after delivery
}

// ConsumersOf lists the consumers of a secret, in the order they were added.
func (c *Config) ConsumersOf(secret string) []Consumer {
	var out []Consumer
	for _, k := range c.Consumers {
		if k.Secret == secret {
			out = append(out, k)
		}
	}
	return out
}

// RemoveConsumers drops the consumers for which drop is true and returns
// how many went.
func (c *Config) RemoveConsumers(drop func(Consumer) bool) int {
	kept := c.Consumers[:0]
	n := 0
	for _, k := range c.Consumers {
		if drop(k) {
			n++
			continue
		}
		kept = append(kept, k)
	}
	c.Consumers = kept
	return n
}
