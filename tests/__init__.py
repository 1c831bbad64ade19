"""The tests of the register (pytest), and the support code they share with bench/."""
