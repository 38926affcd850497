"""gan_utils: the shared, tested code behind the GAN book's chapters."""
from gan_utils import settings

settings.quiet_tensorflow()  # before any module imports TensorFlow

__version__ = "0.1.0"
