"""What every output says about how it was made: file hashes, the environment
(and whether it is the locked one), what an input claims about itself and the
checks made of it, and the record built from them."""
