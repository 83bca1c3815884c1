/* kvidxkitExport.h: compatibility header of the original kvidxkit.
 * Everything it declared is in kvidxkit.h, which this includes. */
#pragma once
#include "kvidxkit.h"
