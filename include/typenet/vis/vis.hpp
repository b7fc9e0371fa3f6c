// Everything of typenet's pictures and image files: reading a user's digit, and the plots of
// the Keras MNIST tutorials (digit grids, label distribution, history, confusion matrix,
// predictions, feature maps). Link typenet-vis (libpng, libjpeg, PLplot).
#pragma once

#include "typenet/vis/charts.hpp"
#include "typenet/vis/digit_grid.hpp"
#include "typenet/vis/digit_input.hpp"
#include "typenet/vis/feature_maps.hpp"
#include "typenet/vis/image_file.hpp"
