// Package casework is the domain of mediationd: what a case is, the
// lifecycle it moves through, and the rules each step must satisfy. It does
// no I/O and knows nothing of storage or transport, so every decision it
// makes can be read and tested alone. The store persists what it decides;
// the API translates requests into its commands.
package casework
