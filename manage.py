#!/usr/bin/env python
from gezhi.cli import main

if __name__ == "__main__":
    main()
