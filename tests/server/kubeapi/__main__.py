# SPDX-License-Identifier: MIT
from .server import main

main()
