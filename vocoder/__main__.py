import sys

from vocoder.entry import main

sys.exit(main())
