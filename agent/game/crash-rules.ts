// Crash classification rules as data: which log lines point at which cause.
//
// Order matters: the first rule with a matching line wins, so specific causes come before
// broad ones (an UnknownDependencyException is reported by Paper as a plugin load failure too,
// but "missing dependency" is the more useful answer). Patterns are matched against single lines
// of the log tail, case-sensitively unless the regex says otherwise.
import type { CrashClassification } from '../../src/api/agent-game-types.ts'

export interface CrashRule {
  classification: CrashClassification
  /** What the rule recognises, for people reading a crash record. */
  description: string
  patterns: RegExp[]
}

export const crashRules: readonly CrashRule[] = [
  {
    classification: 'oom',
    description: 'the JVM or V8 ran out of heap',
    patterns: [
      /java\.lang\.OutOfMemoryError/,
      /JavaScript heap out of memory/,
      /FATAL ERROR: .*(?:heap limit|Allocation failed)/,
      /There is insufficient memory for the Java Runtime Environment to continue/,
    ],
  },
  {
    classification: 'java_version_mismatch',
    description: 'the server jar needs a newer (or older) Java than the runtime installed',
    patterns: [
      /java\.lang\.UnsupportedClassVersionError/,
      /has been compiled by a more recent version of the Java Runtime/,
      /Unsupported Java detected/i,
      /requires (?:running the server with )?Java \d+ or above/i,
    ],
  },
  {
    classification: 'eula_not_accepted',
    description: 'eula.txt does not say eula=true',
    patterns: [/You need to agree to the EULA in order to run the server/, /Failed to load eula\.txt/],
  },
  {
    classification: 'port_in_use',
    description: 'another process holds the server port',
    patterns: [/FAILED TO BIND TO PORT/, /Address already in use/, /\bEADDRINUSE\b/, /java\.net\.BindException/],
  },
  {
    classification: 'missing_dependency',
    description: 'a jar, class, module, shared library or required mod is missing',
    patterns: [
      /Error: Unable to access jarfile/,
      /Error: Could not find or load main class/,
      /java\.lang\.ClassNotFoundException/,
      /java\.lang\.NoClassDefFoundError/,
      /UnknownDependencyException/,
      /Unknown\/missing dependency plugins/,
      /Missing or unsupported mandatory dependencies/,
      /requires (?:any version|version [^ ]+) of [^,]+, which is missing/,
      /Cannot find module '[^']+'/,
      /\bERR_MODULE_NOT_FOUND\b/,
      /error while loading shared libraries/,
      /: command not found$/,
      /spawn .* ENOENT/,
      /No such file or directory \(os error 2\)/,
    ],
  },
  {
    classification: 'mod_or_plugin_error',
    description: 'a Forge/Fabric mod or a Paper/Bukkit plugin failed to load or crashed the server',
    patterns: [
      /Could not load '[^']*' in folder '[^']*'/,
      /Error occurred while enabling \S+/,
      /Fatal error trying to convert \S+:/,
      /InvalidPluginException/,
      /net\.minecraftforge\.fml\.ModLoadingException/,
      /Failed to load mod/i,
      /ModLoadingException/,
      /Mod \S+ has failed to load correctly/,
      /Mixin apply (?:for mod \S+ )?failed/,
      /MixinApplyError|MixinTransformerError/,
      /Could not execute entrypoint stage '[^']+' due to errors, provided by '[^']+'/,
      /Incompatible mods? (?:found|set)/i,
      /Error loading plugin/i,
    ],
  },
]
